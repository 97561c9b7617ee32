/**
 * The shapes of the JSON API (/api/v1) as the console reads them. The server's own types are
 * the source: they are imported type-only (erased by the build, so no server code reaches the
 * bundle); what is declared here is only what the wire adds or what the console alone needs.
 * The server's values (word lists, defaults) are imported as values, only from its pure modules
 * (no node builtins, no server libraries): src/sync/categories.ts, src/sync/policy.ts,
 * src/sync/schedule-words.ts, src/graph/clouds.ts, src/directory/recipients.ts, src/jobs/attention.ts.
 */

import type { DomainEntry, DomainProof, Organization, Role } from '../../../src/directory/model.js';
import type { Principal } from '../../../src/directory/permissions.js';
import type { BlockedMailboxRule, MailboxFilter, MailboxKind } from '../../../src/directory/recipients.js';
import type { Cloud } from '../../../src/graph/clouds.js';
import type { DiagnosticReport, DiagnosticStep } from '../../../src/graph/connector.js';
import type { MailboxIssueCause, MailboxReads } from '../../../src/graph/mailboxes.js';
import type { Attention, AttentionItem } from '../../../src/jobs/attention.js';
import type { AutomationInput, AutomationView } from '../../../src/jobs/automation.js';
import type { SyncOverview } from '../../../src/jobs/overview.js';
import type { AuthService, Session } from '../../../src/services/auth.js';
import type { GroupView, NewGroup, NewUser, UserView } from '../../../src/services/directory.js';
import type { EntraSettingsView } from '../../../src/services/entra-settings.js';
import type {
  HoldReason,
  PlanState,
  PlanView,
  Preview,
  ReadInfo,
  RunResult,
  RunStatus,
  ChangeOutcome as ServerChangeOutcome,
} from '../../../src/services/sync.js';
import type { listAudit } from '../../../src/store/audit.js';
import type { NotificationRecord } from '../../../src/store/jobs-repository.js';
import type { Category, Change, PlannedMember, SkippedEntry } from '../../../src/sync/changes.js';
import type { DefaultRole, HowSwitches, WhatSwitches } from '../../../src/sync/policy.js';

export type {
  Attention,
  AttentionItem,
  BlockedMailboxRule,
  Category,
  Change,
  Cloud,
  DefaultRole,
  DiagnosticStep,
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
  PlanState,
  PlanView,
  Preview,
  Principal,
  ReadInfo,
  Role,
  RunStatus,
  Session,
  SkippedEntry,
  SyncOverview,
  WhatSwitches,
};

export type User = UserView;
export type Group = GroupView;
export type GroupKind = GroupView['kind'];
/** GET …/groups/{id}: the group with every user reached through nested groups. */
export type GroupDetail = GroupView & { effectiveMembers: string[] };
export type NewUserBody = NewUser;
export type NewGroupBody = NewGroup;
export type EntraSettings = EntraSettingsView;
export type ConnectionTest = DiagnosticReport;
export type ExecuteResult = RunResult;
export type RunError = RunResult['errors'][number];
export type Notification = NotificationRecord;
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

/** GET /me: an end user's own profile. */
export interface Me {
  user: User;
  organization: { id: string; name: string };
  receivesQuarantineDigests: boolean;
}

/** The plan categories in the order the preview shows them: the server's own list. */
export { CATEGORIES } from '../../../src/sync/categories.js';

/** A run as History lists it; the summary is the execute result plus the skipped entries. */
export interface SyncRun {
  id: string;
  trigger: 'manual' | 'scheduled' | (string & {});
  actor: string;
  planId: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  summary: Partial<RunResult> & { skippedEntries?: SkippedEntry[]; read?: ReadInfo };
}

/** One change's outcome in a run; before/after are the changed fields. */
export type ChangeOutcome = Omit<ServerChangeOutcome, 'before' | 'after'> & {
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
};

export interface SyncRunDetail extends SyncRun {
  detail: ChangeOutcome[] | null;
}
