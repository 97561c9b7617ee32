/**
 * The shapes of the JSON API (/api/v1) as the console reads them. The HTTP contract is the
 * source: the static types of its TypeBox schemas (src/contract/), imported type-only (erased by
 * the build, so neither typebox nor server code reaches the bundle); the areas not yet in the
 * contract come from the server's own types the same way. What is declared here is only what
 * the wire adds or what the console alone needs. The server's values (word lists, defaults,
 * limits, rules) are imported as values, only from its pure modules (no node builtins, no server
 * libraries): src/contract/limits.ts, src/sync/categories.ts, src/sync/deactivation.ts,
 * src/sync/policy.ts, src/sync/schedule-words.ts, src/graph/clouds.ts, src/directory/recipients.ts,
 * src/jobs/attention.ts.
 */

import type { AutomationInput, AutomationView } from '../../../src/contract/automation.js';
import type {
  GroupDetail,
  GroupView,
  Me,
  NewGroupBody,
  NewUserBody,
  UserView,
} from '../../../src/contract/directory.js';
import type { Notification } from '../../../src/contract/notifications.js';
import type { Attention, AttentionItem, SyncOverview } from '../../../src/contract/overview.js';
import type { DiagnosticReport, EntraSettingsView } from '../../../src/contract/settings.js';
import type {
  Change,
  ChangeOutcome,
  DefaultRole,
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
import type { DomainEntry, DomainProof, Organization, Role } from '../../../src/directory/model.js';
import type { Principal } from '../../../src/directory/permissions.js';
import type { BlockedMailboxRule, MailboxFilter, MailboxKind } from '../../../src/directory/recipients.js';
import type { Cloud } from '../../../src/graph/clouds.js';
import type { AuthService, Session } from '../../../src/services/auth.js';
import type { listAudit } from '../../../src/store/audit.js';
import type { Category } from '../../../src/sync/categories.js';

export type {
  Attention,
  AttentionItem,
  BlockedMailboxRule,
  Category,
  Change,
  ChangeOutcome,
  Cloud,
  DefaultRole,
  DomainEntry,
  DomainProof,
  HoldReason,
  HowSwitches,
  MailboxFilter,
  MailboxIssueCause,
  MailboxKind,
  MailboxReads,
  Organization,
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
export type { GroupDetail, Me, NewGroupBody, NewUserBody, Notification };
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
/** An API token as listed: never the token itself, which is shown once on creation. */
export type ApiToken = Awaited<ReturnType<AuthService['listApiTokens']>>[number];
export type AuditEntry = Awaited<ReturnType<typeof listAudit>>[number];

/** A page of a list answer (users, groups). */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

/** The plan categories in the order the preview shows them: the server's own list. */
export { CATEGORIES } from '../../../src/sync/categories.js';
