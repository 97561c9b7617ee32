/** The shapes of the JSON API (/api/v1) as the console reads them; the OpenAPI document is the source. */

export type Role = 'org_admin' | 'end_user' | 'silent_user';

export type Principal =
  | { type: 'operator'; id: string; email: string }
  | { type: 'user'; id: string; orgId: string; role: Role; email: string }
  | { type: 'token'; id: string; name: string; orgId: string | null };

export interface Session {
  principal: Principal;
  csrfToken: string;
  expiresAt: string;
}

export interface Organization {
  id: string;
  name: string;
  domains: string[];
  createdAt: string;
}

export interface User {
  id: string;
  email: string;
  aliases: string[];
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  role: Role;
  status: 'active' | 'inactive';
  source: 'manual' | 'entra';
  externalId: string | null;
  exempt: boolean;
}

export type GroupKind = 'distribution' | 'security';

export interface Group {
  id: string;
  name: string;
  kind: GroupKind;
  email: string | null;
  aliases: string[];
  members: string[];
  source: 'manual' | 'entra';
  externalId: string | null;
  exempt: boolean;
}

export interface GroupDetail extends Group {
  effectiveMembers: string[];
}

export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export interface Me {
  user: User;
  organization: { id: string; name: string };
  receivesQuarantineDigests: boolean;
}

export type DefaultRole = 'end_user' | 'silent_user';
export type Cloud = 'global' | 'usgov' | 'usgov-dod' | 'china';

export interface WhatSwitches {
  users: boolean;
  distribution: boolean;
  security: boolean;
}

export interface HowSwitches {
  addUsers: boolean;
  updateUsers: boolean;
  addGroups: boolean;
  updateGroups: boolean;
  removeUsers: boolean;
  removeGroups: boolean;
}

export interface EntraSettings {
  configured: boolean;
  tenant: string | null;
  clientId: string | null;
  secret: { set: boolean; last4: string | null; expiresAt: string | null };
  defaultRole: DefaultRole;
  what: WhatSwitches;
  how: HowSwitches;
  frequencyHours: 1 | 3 | 6 | 12 | 24 | null;
  cloud: Cloud;
  authorityHost?: string | null;
  graphUrl?: string | null;
  caPem?: string | null;
  adminConsentUrl?: string | null;
}

export interface DiagnosticStep {
  step: 'token' | 'tenant' | 'users' | 'groups' | 'members';
  ok: boolean;
  skipped?: boolean;
  code?: string;
  message?: string;
  hint?: string;
}

export interface ConnectionTest {
  ok: boolean;
  steps: DiagnosticStep[];
  tenantId?: string;
  /** Application permissions the token carries. */
  roles?: string[];
  consentUrl: string;
}

/** A member of a group as a plan shows it. */
export interface PlannedMember {
  type: 'user' | 'group';
  id: string | null;
  externalId: string | null;
  label: string;
}

/** One planned change; which optional fields are present depends on `kind`. */
export interface Change {
  id: string;
  kind: 'add_user' | 'update_user' | 'remove_user' | 'add_group' | 'update_group' | 'remove_group';
  externalId: string;
  address: string | null;
  name: string;
  reason?: string;
  message?: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
  membersAdded?: PlannedMember[];
  membersRemoved?: PlannedMember[];
  membersLeftOut?: number;
  user?: Record<string, unknown>;
  group?: Record<string, unknown> & { members?: PlannedMember[] };
}

export interface SkippedEntry {
  reason: string;
  message: string;
  objectType: 'user' | 'group';
  externalId?: string;
  address?: string;
  name?: string;
}

export const CATEGORIES = [
  'usersToAdd',
  'usersToUpdate',
  'usersToRemove',
  'groupsToAdd',
  'groupsToUpdate',
  'groupsToRemove',
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface ReadInfo {
  mode: string;
  requests: number;
  retries: number;
  throttled: number;
  objects: { users: number; groups: number };
  durationMs: number;
}

export type Preview = Record<Category, Change[]> & {
  planId: string;
  createdAt: string;
  expiresAt: string;
  skipped: SkippedEntry[];
  unchanged: number;
  /** Changes not planned because their how-switch is off, per category. */
  switchedOff?: Partial<Record<Category, number>>;
  read?: ReadInfo;
};

export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'completed_with_conflicts'
  | 'failed'
  | 'held'
  | 'dismissed';

/** Why the deletion safeguard held an automatic run for review. */
export interface HoldReason {
  message: string;
  removals: number;
  syncedUsers: number;
}

export interface RunError {
  code: string;
  message: string;
  hint?: string;
}

export interface ExecuteResult {
  runId: string;
  planId: string | null;
  status: RunStatus;
  applied: Partial<Record<Category, number>>;
  excluded: number;
  conflicts: Array<{ changeId: string; message: string }>;
  skipped: number;
  unchanged: number;
  errors: RunError[];
  timings?: { readMs: number; planMs: number; applyMs: number };
  held?: HoldReason;
}

/** A run as History lists it; the summary is the execute result plus the skipped entries. */
export interface SyncRun {
  id: string;
  trigger: 'manual' | 'scheduled' | string;
  actor: string;
  planId: string | null;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  summary: Partial<ExecuteResult> & { skippedEntries?: SkippedEntry[]; read?: ReadInfo };
}

/** One change's outcome in a run. */
export interface ChangeOutcome {
  id: string;
  category: Category;
  kind: Change['kind'];
  externalId: string;
  address: string | null;
  name: string;
  outcome: 'applied' | 'excluded' | 'conflict';
  message?: string;
  before?: Record<string, unknown>;
  after?: Record<string, unknown>;
}

export interface SyncRunDetail extends SyncRun {
  detail: ChangeOutcome[] | null;
}

/** GET /orgs/{org}/overview: the automatic sync's state at a glance. */
export interface SyncOverview {
  connection: {
    configured: boolean;
    healthy: boolean;
    lastError: RunError | null;
    consecutiveFailures: number;
    lastFailureAt: string | null;
  };
  frequencyHours: number | null;
  lastSuccessfulSync: { runId: string; startedAt: string; finishedAt: string | null } | null;
  nextScheduledSync: string | null;
  heldRun: { runId: string; startedAt: string; reason: string | null } | null;
  unreadNotifications: number;
}

export interface Notification {
  id: string;
  kind: string;
  title: string;
  message: string;
  runId: string | null;
  createdAt: string;
  readAt: string | null;
}
