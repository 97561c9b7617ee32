/**
 * The shapes of the JSON API (/api/v1) as the console reads them. The HTTP contract is the
 * source: the static types of its TypeBox schemas (src/contract/), imported type-only (erased by
 * the build, so neither typebox nor server code reaches the bundle), and the pure word lists
 * they are built on (src/directory/model.ts, src/directory/recipients.ts, src/graph/clouds.ts,
 * src/sync/categories.ts). What is declared here is only what the console alone needs. The
 * server's values (word lists, defaults, limits, rules) are imported as values, only from its pure
 * modules (no node builtins, no server libraries): src/contract/limits.ts, src/contract/words.ts,
 * src/sync/categories.ts, src/sync/deactivation.ts, src/sync/policy.ts,
 * src/sync/schedule-words.ts, src/graph/clouds.ts, src/directory/recipients.ts.
 */

import type { ServedPrincipal as Principal, Session } from '../../../src/contract/auth.js';
import type { AutomationInput, AutomationView } from '../../../src/contract/automation.js';
import type {
  GroupDetail,
  GroupView,
  Me,
  NewGroupBody,
  NewUserBody,
  Page,
  UserView,
} from '../../../src/contract/directory.js';
import type { Notification } from '../../../src/contract/notifications.js';
import type {
  ApiToken,
  AuditEntryView,
  DomainEntryView,
  OrganizationView,
} from '../../../src/contract/organizations.js';
import type { Attention, AttentionItem, SyncOverview } from '../../../src/contract/overview.js';
import type { DiagnosticReport, EntraSettingsView } from '../../../src/contract/settings.js';
import type {
  ApproveBody,
  Change,
  ChangeOutcome,
  DefaultRole,
  ExecuteBody,
  HoldReason,
  HowSwitches,
  MailboxIssueCause,
  MailboxReads,
  PlannedMember,
  PlanView,
  Preview,
  ReadInfo,
  RunResult,
  SkippedEntry,
  SyncRun,
  SyncRunDetail,
  WhatSwitches,
} from '../../../src/contract/sync.js';
import type { DomainProof, Role } from '../../../src/directory/model.js';
import type { BlockedMailboxRule, MailboxFilter, MailboxKind } from '../../../src/directory/recipients.js';
import type { Cloud } from '../../../src/graph/clouds.js';
import type { Category } from '../../../src/sync/categories.js';

export type {
  ApproveBody,
  Attention,
  AttentionItem,
  BlockedMailboxRule,
  Category,
  Change,
  ChangeOutcome,
  Cloud,
  DefaultRole,
  DomainProof,
  ExecuteBody,
  HoldReason,
  HowSwitches,
  MailboxFilter,
  MailboxIssueCause,
  MailboxKind,
  MailboxReads,
  PlannedMember,
  PlanView,
  Preview,
  Principal,
  ReadInfo,
  Role,
  Session,
  SkippedEntry,
  SyncOverview,
  SyncRun,
  SyncRunDetail,
  WhatSwitches,
};

export type User = UserView;
export type Group = GroupView;
export type GroupKind = GroupView['kind'];
export type { GroupDetail, Me, NewGroupBody, NewUserBody, Notification, Page };
export type EntraSettings = EntraSettingsView;
export type ConnectionTest = DiagnosticReport;
/** One step of the connection test. */
export type DiagnosticStep = DiagnosticReport['steps'][number];
export type ExecuteResult = RunResult;
/** What may still be done with a stored plan. */
export type PlanState = PlanView['state'];
/** What became of a run. */
export type RunStatus = RunResult['status'];
export type RunError = RunResult['errors'][number];
/** Billable users before → after a plan, and the seats the licence covers (null: not tracked). */
export type Seats = Preview['seats'];
/** Users in scope with sign-in blocked, by what decided their status. */
export type BlockedSignIn = Preview['blockedSignIn'];
export type Automation = AutomationView;
export type AutomationBody = AutomationInput;
export type { ApiToken };
export type AuditEntry = AuditEntryView;
export type Organization = OrganizationView;
export type DomainEntry = DomainEntryView;

/** The plan categories in the order the preview shows them: the server's own list. */
export { CATEGORIES } from '../../../src/sync/categories.js';
