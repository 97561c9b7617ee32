/**
 * The sync part of the HTTP contract: the planner's change kinds, a preview, a stored plan's
 * pages, an execute's result and the run history. These schemas are the one source: the route
 * schemas are these objects, and the services' and the planner's types are `Static<>` of them
 * (src/sync/changes.ts, src/sync/policy.ts, src/services/sync.ts), so a property the service
 * returns cannot be missing from the response schema — Fastify's serializer would strip it.
 */
import { type Static, Type } from 'typebox';
import { GROUP_KINDS, ROLES, SOURCES, USER_STATUSES } from '../directory/model.js';
import { BLOCKED_MAILBOX_RULES, MAILBOX_KINDS } from '../directory/recipients.js';
import type { ReadResult as GraphReadResult } from '../graph/connector.js';
import type {
  MailboxIssueCause as GraphMailboxIssueCause,
  MailboxReads as GraphMailboxReads,
} from '../graph/mailboxes.js';
import { CATEGORIES, SKIP_REASONS } from '../sync/categories.js';
import { CountsOf, type Equal, Nullable, OneOf, said } from './common.js';
import { PLAN_OFFSET_MAX, PLAN_PAGE_MAX } from './limits.js';
import { HOW_WORDS, WHAT_WORDS } from './words.js';

// ---------------------------------------------------------------- the planner's change kinds

/** A member of a group as a plan shows it: readable (label) and resolvable (id or external id). */
export const PlannedMemberSchema = Type.Object({
  type: Type.Union([Type.Literal('user'), Type.Literal('group')]),
  id: said(
    Nullable(Type.String()),
    'directory id when the member already exists; null when this plan adds it',
  ),
  externalId: said(
    Nullable(Type.String()),
    'Entra object id; null only for a hand-made member in a before list',
  ),
  label: said(Type.String(), "the user's address; the group's address, else its name"),
});

const userFields = {
  email: Type.String(),
  aliases: Type.Array(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  status: OneOf(USER_STATUSES),
  mailbox: Nullable(OneOf(MAILBOX_KINDS)),
  source: OneOf(SOURCES),
  externalId: Nullable(Type.String()),
};
/** The user fields sync owns (never the role). */
export const UserFieldsSchema = Type.Object(userFields);

const groupFields = {
  name: Type.String(),
  kind: OneOf(GROUP_KINDS),
  email: Nullable(Type.String()),
  aliases: Type.Array(Type.String()),
  members: Type.Array(PlannedMemberSchema),
};
/** The group fields sync owns. */
export const GroupFieldsSchema = Type.Object(groupFields);

const { source: _userSource, externalId: _userExternalId, ...newUserFields } = userFields;
/** A user as it will be created. */
export const NewUserSchema = Type.Object({
  ...newUserFields,
  role: OneOf(ROLES),
  source: Type.Literal('entra'),
  externalId: Type.String(),
});

/** A group as it will be created (members may refer to objects added by the same plan). */
export const NewGroupSchema = Type.Object({
  ...groupFields,
  source: Type.Literal('entra'),
  externalId: Type.String(),
});

const changeBase = {
  id: said(Type.String(), 'stable: the same pending change gets the same id in the next preview'),
  externalId: Type.String(),
  address: Nullable(Type.String()),
  name: Type.String(),
};

/** Why an object is removed: gone from Entra, or still there but no longer in scope. */
export const RemovalReasonSchema = Type.Union([Type.Literal('deleted'), Type.Literal('out_of_scope')]);

/** A new user from Entra. */
export const AddUserChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('add_user'),
  address: Type.String(),
  user: NewUserSchema,
});

/**
 * An existing user changed to match Entra. `linked`: a hand-made user with the same primary
 * address is taken over by sync (before/after show source manual→entra, externalId null→id).
 */
export const UpdateUserChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('update_user'),
  reason: Type.Union([Type.Literal('changed'), Type.Literal('linked')]),
  userId: Type.String(),
  before: Type.Partial(UserFieldsSchema),
  after: Type.Partial(UserFieldsSchema),
});

/** A synced user that is gone from Entra or out of scope. */
export const RemoveUserChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('remove_user'),
  reason: RemovalReasonSchema,
  message: said(Type.String(), 'a sentence saying why (e.g. "now a guest user")'),
  userId: Type.String(),
});

/** A new group from Entra, with its members. */
export const AddGroupChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('add_group'),
  group: NewGroupSchema,
  membersLeftOut: said(
    Type.Integer(),
    'Entra members left out because they are not in the directory (guests, skipped, out of scope)',
  ),
});

const { members: _groupMembers, ...groupOwnFields } = groupFields;
/**
 * The fields of a group an update changes, as they were and as they will be. Members are not
 * among them: an update lists only the members it adds and removes, so its size is that of the
 * change, not of the group.
 */
export const GroupFieldChangesSchema = Type.Partial(Type.Object(groupOwnFields));

/** An existing group changed to match Entra: its fields that differ, and the members it adds and removes. */
export const UpdateGroupChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('update_group'),
  groupId: Type.String(),
  before: GroupFieldChangesSchema,
  after: GroupFieldChangesSchema,
  membersAdded: Type.Array(PlannedMemberSchema),
  membersRemoved: Type.Array(PlannedMemberSchema),
  membersLeftOut: Type.Integer(),
});

/** A synced group that is gone from Entra or out of scope. */
export const RemoveGroupChangeSchema = Type.Object({
  ...changeBase,
  kind: Type.Literal('remove_group'),
  reason: RemovalReasonSchema,
  message: Type.String(),
  groupId: Type.String(),
});

/** Any planned change: a tagged union on `kind`. */
export const ChangeSchema = Type.Union([
  AddUserChangeSchema,
  UpdateUserChangeSchema,
  RemoveUserChangeSchema,
  AddGroupChangeSchema,
  UpdateGroupChangeSchema,
  RemoveGroupChangeSchema,
]);

/** The kinds of change, in apply order's categories. */
export const CHANGE_KINDS = [
  'add_user',
  'update_user',
  'remove_user',
  'add_group',
  'update_group',
  'remove_group',
] as const;
const _changeKindsMatch: Equal<(typeof CHANGE_KINDS)[number], Static<typeof ChangeSchema>['kind']> = true;
void _changeKindsMatch;

/** Something sync did not do, and why, in a sentence an admin can act on. */
export const SkippedEntrySchema = Type.Object({
  reason: OneOf(SKIP_REASONS),
  message: Type.String(),
  objectType: Type.Union([Type.Literal('user'), Type.Literal('group')]),
  externalId: Type.Optional(Type.String()),
  address: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
});

/** Skipped entries per reason code: every code, zero included (a stable shape to print and chart). */
export const SkippedByReasonSchema = CountsOf(SKIP_REASONS, {
  description: `skipped entries per reason code, every code present: ${SKIP_REASONS.join(', ')}`,
});

/**
 * What sync leaves out because every tenant has it, counted instead of listed per object
 * (docs/sync-rules.md): aliases in Microsoft's initial and routing domains.
 */
export const ExpectedLeftOutSchema = Type.Object(
  { initialDomainAliases: Type.Integer() },
  {
    description:
      "left out as expected, counted instead of listed: aliases in the tenant's own *.onmicrosoft.com domains",
  },
);

/** How a blocked user's status was decided (src/directory/recipients.ts StatusDecision, but `enabled`). */
export const BLOCKED_SIGN_IN_DECISIONS = ['functional', 'person', 'rule'] as const;

/** Changes per category. */
export const CategoryCountsSchema = CountsOf(CATEGORIES);

const planFields = {
  usersToAdd: Type.Array(AddUserChangeSchema),
  usersToUpdate: Type.Array(UpdateUserChangeSchema),
  usersToRemove: Type.Array(RemoveUserChangeSchema),
  groupsToAdd: Type.Array(AddGroupChangeSchema),
  groupsToUpdate: Type.Array(UpdateGroupChangeSchema),
  groupsToRemove: Type.Array(RemoveGroupChangeSchema),
  skipped: Type.Array(SkippedEntrySchema),
  skippedByReason: SkippedByReasonSchema,
  expectedLeftOut: ExpectedLeftOutSchema,
  unchanged: said(Type.Integer(), 'objects in scope that already match Entra'),
  switchedOff: CountsOf(CATEGORIES, {
    description: 'changes that would have been planned but whose how-switch is off, per category',
  }),
  blockedSignIn: CountsOf(BLOCKED_SIGN_IN_DECISIONS, {
    description: 'users in scope whose sign-in is blocked, by what decided their status',
  }),
  seats: Type.Object(
    { before: Type.Integer(), after: Type.Integer() },
    {
      description:
        'billable users (active, not functional accounts) now, and once every planned change is applied',
    },
  ),
};
/** The categorised result of plan(); the service adds planId/expiry when it stores it. */
export const PlanSchema = Type.Object(planFields);

// ---------------------------------------------------------------- policy and how the source was read

/** What to sync: the product's "Active Users", "Distribution Groups", "Security Groups". */
export const WhatSwitchesSchema = Type.Object({
  users: Type.Boolean(),
  distribution: Type.Boolean(),
  security: Type.Boolean(),
});

/** How to sync: each switch gates one change kind; a change whose switch is off is not planned. */
export const HowSwitchesSchema = Type.Object({
  addUsers: Type.Boolean(),
  updateUsers: said(Type.Boolean(), 'includes deactivation, reactivation and linking hand-made users'),
  addGroups: Type.Boolean(),
  updateGroups: said(Type.Boolean(), 'includes membership changes'),
  removeUsers: Type.Boolean(),
  removeGroups: Type.Boolean(),
});

/** The role a new user gets; sync never changes the role of an existing user. */
export const DefaultRoleSchema = Type.Union([Type.Literal('end_user'), Type.Literal('silent_user')]);

/** Everything plan() needs to know about an organization's sync settings. */
export const SyncPolicySchema = Type.Object({
  what: WhatSwitchesSchema,
  how: HowSwitchesSchema,
  defaultRole: DefaultRoleSchema,
  blockedMailboxes: said(
    OneOf(BLOCKED_MAILBOX_RULES),
    'what a mailbox with sign-in blocked and an unknown purpose becomes',
  ),
  includeGuests: said(Type.Boolean(), 'guest users (userType Guest) are synced too'),
});

/** Why a needed mailbox purpose stayed unknown (src/graph/mailboxes.ts explains each). */
export const MAILBOX_ISSUE_CAUSES = [
  'permission_missing',
  'mailbox_access_denied',
  'no_exchange_mailbox',
  'unrecognized_purpose',
  'throttled',
  'item_failed',
  'batch_failed',
] as const;

/** How the mailbox purposes of a read went: src/graph/mailboxes.ts MailboxReads, checked equal below. */
export const MailboxReadsSchema = Type.Object({
  needed: said(Type.Integer(), 'users whose purpose had to be read'),
  read: said(Type.Integer(), 'of those, purposes read'),
  unknown: said(Type.Array(Type.String()), 'external ids of the needed users whose purpose stays unknown'),
  denied: said(Type.Boolean(), 'MailboxSettings.Read is not granted'),
  requests: said(Type.Integer(), '$batch requests sent, retries included'),
  issues: Type.Array(
    Type.Object({
      cause: OneOf(MAILBOX_ISSUE_CAUSES),
      users: Type.Integer(),
      detail: Type.String(),
    }),
  ),
});

/** How the source was read: full, delta, or full because the delta link had expired. */
export const READ_MODES = ['full', 'delta', 'full-after-expired-delta'] as const;

/** How the source was read for a preview. */
export const ReadInfoSchema = Type.Object({
  mode: OneOf(READ_MODES),
  requests: Type.Integer(),
  retries: Type.Integer(),
  throttled: Type.Integer(),
  objects: Type.Object({ users: Type.Integer(), groups: Type.Integer() }),
  durationMs: Type.Number(),
  mailboxes: MailboxReadsSchema,
});

// The connector (src/graph, a leaf the contract does not own) declares these itself: proven equal
// here, so a field it adds fails the typecheck instead of being stripped from every preview.
const _mailboxReadsMatch: Equal<Static<typeof MailboxReadsSchema>, GraphMailboxReads> = true;
const _mailboxCausesMatch: Equal<(typeof MAILBOX_ISSUE_CAUSES)[number], GraphMailboxIssueCause> = true;
const _readModesMatch: Equal<(typeof READ_MODES)[number], GraphReadResult['mode']> = true;
void _readModesMatch;
void _mailboxReadsMatch;
void _mailboxCausesMatch;

// ---------------------------------------------------------------- preview and plan pages

/** Billable users now → after the plan, and what the licence covers (null: not tracked). */
export const SeatsSchema = Type.Object({
  before: Type.Integer(),
  after: Type.Integer(),
  licensed: Nullable(Type.Integer()),
});

const previewFields = {
  ...planFields,
  seats: SeatsSchema,
  planId: Type.String(),
  createdAt: Type.String(),
  expiresAt: Type.String(),
  policy: SyncPolicySchema,
  read: ReadInfoSchema,
  timings: Type.Object({ readMs: Type.Number(), planMs: Type.Number() }),
};
/** A stored preview as the CLI and API show it. */
export const PreviewSchema = Type.Object(previewFields);

/** What the plan reader pages: one category of changes, or the skipped entries. */
export const PLAN_PAGES = [...CATEGORIES, 'skipped'] as const;

/**
 * What may still be done with a stored plan: `preview` may be executed; `stale`: another sync
 * was applied after it (Search again); `held`: the plan of a run the deletion safeguard held;
 * `running`: being applied right now; `executed`: applied already.
 */
export const PLAN_STATES = ['preview', 'stale', 'held', 'running', 'executed'] as const;

const {
  usersToAdd: _ua,
  usersToUpdate: _uu,
  usersToRemove: _ur,
  groupsToAdd: _ga,
  groupsToUpdate: _gu,
  groupsToRemove: _gr,
  skipped: _sk,
  expiresAt: _ex,
  ...planSummaryFields
} = previewFields;

/**
 * A stored plan as the console and API read it back — a preview or a held run's plan, the
 * same shape for both: what Search showed (counts, seats, blocked sign-ins, how it was read)
 * and one page of one category.
 */
export const PlanViewSchema = Type.Object({
  ...planSummaryFields,
  expiresAt: said(
    Nullable(Type.String()),
    "when the preview stops being executable; null for a held run's plan (kept until decided)",
  ),
  state: OneOf(PLAN_STATES),
  run: said(
    Nullable(Type.Object({ id: Type.String(), status: Type.String() })),
    'the run that executed the plan, or that it is held for; null for a preview not executed',
  ),
  counts: said(CountsOf(PLAN_PAGES), 'changes per category, and the skipped entries'),
  deactivations: said(
    Type.Integer(),
    'of the users to update, those the plan turns inactive (with the removals, what the safeguard counts)',
  ),
  page: Type.Object({
    category: OneOf(PLAN_PAGES),
    offset: Type.Integer(),
    limit: Type.Integer(),
    search: said(
      Type.String(),
      'the filter applied (address, name, Entra object id; skipped entries: also the reason)',
    ),
    reason: said(
      Nullable(OneOf(SKIP_REASONS)),
      'the reason skipped entries are filtered by; null: every reason',
    ),
    total: said(Type.Integer(), 'changes (or entries) of the category that match the filter'),
    // Each item is one branch or the other: a change has `kind`, a skipped entry `reason` and
    // `objectType` (the serializer picks the first branch an item validates against).
    items: Type.Array(Type.Union([...ChangeSchema.anyOf, SkippedEntrySchema])),
  }),
});

// ---------------------------------------------------------------- runs

/** Who started a sync. */
export const TRIGGERS = ['manual', 'scheduled'] as const;

/**
 * What became of a run: running, succeeded, completed_with_conflicts, failed; held (an automatic
 * run the deletion safeguard stopped: nothing applied until an admin approves it); dismissed (a
 * held run the admin dropped: nothing applied, ever).
 */
export const RUN_STATUSES = [
  'running',
  'succeeded',
  'completed_with_conflicts',
  'failed',
  'held',
  'dismissed',
] as const;

/** Why a run was held for review (the deletion safeguard's verdict). */
export const HoldReasonSchema = Type.Object({
  message: Type.String(),
  removals: said(Type.Integer(), 'users the plan would remove or deactivate'),
  syncedUsers: said(Type.Integer(), 'users linked to Entra in the directory before the run'),
});

/** Who approved or dismissed a held run, and when (the run's actor stays who started it). */
export const RunDecisionSchema = Type.Object({
  action: Type.Union([Type.Literal('approved'), Type.Literal('dismissed')]),
  by: Type.String(),
  at: Type.String(),
});

/** A run-level error: a stable code (docs/errors.md), its sentence, and what to do. */
export const RunErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  hint: Type.Optional(Type.String()),
});

const runResultFields = {
  runId: Type.String(),
  planId: Nullable(Type.String()),
  status: OneOf(RUN_STATUSES),
  applied: CategoryCountsSchema,
  excluded: Type.Integer(),
  conflicts: Type.Array(Type.Object({ changeId: Type.String(), message: Type.String() })),
  skipped: Type.Integer(),
  skippedByReason: SkippedByReasonSchema,
  expectedLeftOut: ExpectedLeftOutSchema,
  unchanged: Type.Integer(),
  errors: Type.Array(RunErrorSchema),
  timings: Type.Object({ readMs: Type.Number(), planMs: Type.Number(), applyMs: Type.Number() }),
  seats: said(
    Nullable(SeatsSchema),
    'billable users before → after its plan, against the licence; null when no plan was made',
  ),
  held: Type.Optional(said(HoldReasonSchema, 'set when the run was held for review instead of applied')),
  planned: Type.Optional(
    said(CategoryCountsSchema, "a held run's plan: changes per category (nothing applied until approved)"),
  ),
  decision: Type.Optional(said(RunDecisionSchema, 'set on a held run once approved or dismissed')),
};
/** The result of an execute, as the CLI and API print it. */
export const RunResultSchema = Type.Object(runResultFields);

/**
 * A run's summary as stored with it: the execute result, the plan's skipped entries and how the
 * source was read. Every field may be absent — a running run has `{}`, a run closed as
 * `worker_lost` only its status and error, and a run recorded before a field (or a word of a
 * count) existed lacks it — so the schema holds every stored summary, old ones included.
 */
export const RunSummarySchema = Type.Partial(
  Type.Object({
    ...runResultFields,
    applied: Type.Partial(CategoryCountsSchema),
    planned: Type.Partial(CategoryCountsSchema),
    skippedByReason: Type.Partial(SkippedByReasonSchema),
    // Runs read before mailbox purposes were read lack them.
    read: Type.Object({ ...ReadInfoSchema.properties, mailboxes: Type.Optional(MailboxReadsSchema) }),
    skippedEntries: said(
      Type.Array(SkippedEntrySchema),
      "the plan's skipped entries (a run's own page only)",
    ),
    actor: Type.String(),
  }),
);

/** A sync run as History lists it (the list leaves out each summary's skipped entries). */
export const RunRecordSchema = Type.Object({
  id: Type.String(),
  trigger: OneOf(TRIGGERS),
  actor: Type.String(),
  planId: Nullable(Type.String()),
  status: OneOf(RUN_STATUSES),
  startedAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  summary: RunSummarySchema,
});

/** A user as a run recorded it: the one added (as created) or removed (as it was). */
export const OutcomeUserSchema = Type.Object({
  email: Type.String(),
  aliases: Type.Array(Type.String()),
  role: OneOf(ROLES),
  status: OneOf(USER_STATUSES),
  mailbox: Nullable(OneOf(MAILBOX_KINDS)),
  functional: said(Type.Boolean(), 'a shared, room or equipment mailbox: receives mail, no person signs in'),
});

/** A group as a run recorded it: the one added or removed. */
export const OutcomeGroupSchema = Type.Object({
  name: Type.String(),
  kind: OneOf(GROUP_KINDS),
  email: Nullable(Type.String()),
  aliases: Type.Array(Type.String()),
  memberCount: Type.Integer(),
});

/**
 * An update's before/after: the user fields or the group fields that change. One object with
 * both sets (every field optional) rather than a union of two all-optional objects, which every
 * value would match first and the serializer would cut to the first one's properties.
 */
export const ChangedFieldsSchema = Type.Partial(
  Type.Object({ ...userFields, ...groupFields, email: Nullable(Type.String()) }),
);

/**
 * One change's outcome in a run (History shows these): what the change did, in as much detail
 * as the preview showed — the record added, the record removed, an update's before → after.
 * Runs recorded before a field existed simply lack it.
 */
export const ChangeOutcomeSchema = Type.Object({
  id: Type.String(),
  category: OneOf(CATEGORIES),
  kind: OneOf(CHANGE_KINDS),
  externalId: Type.String(),
  address: Nullable(Type.String()),
  name: Type.String(),
  outcome: Type.Union([Type.Literal('applied'), Type.Literal('excluded'), Type.Literal('conflict')]),
  message: Type.Optional(said(Type.String(), 'why it was not applied (a conflict)')),
  reason: Type.Optional(
    said(Type.String(), "a removal's reason (deleted, out_of_scope), or an update's (changed, linked)"),
  ),
  why: Type.Optional(said(Type.String(), 'a removal\'s sentence saying why (e.g. "now a guest user")')),
  before: Type.Optional(ChangedFieldsSchema),
  after: Type.Optional(ChangedFieldsSchema),
  membersAdded: Type.Optional(Type.Array(PlannedMemberSchema)),
  membersRemoved: Type.Optional(Type.Array(PlannedMemberSchema)),
  user: Type.Optional(
    said(
      OutcomeUserSchema,
      'add_user: the user as created; remove_user: as it was (absent when already gone)',
    ),
  ),
  group: Type.Optional(
    said(
      OutcomeGroupSchema,
      'add_group: the group as created; remove_group: as it was (absent when already gone)',
    ),
  ),
});

/** A run with every change's outcome (null: a run that applied nothing, e.g. held or failed). */
export const RunDetailSchema = Type.Object({
  ...RunRecordSchema.properties,
  detail: Nullable(Type.Array(ChangeOutcomeSchema)),
});

// ---------------------------------------------------------------- the static types
// What the planner, the services and the console use (each described on its schema above);
// src/sync/changes.ts, src/sync/policy.ts and src/services/sync.ts re-export them where they always were.

export type PlannedMember = Static<typeof PlannedMemberSchema>;
export type UserFields = Static<typeof UserFieldsSchema>;
export type GroupFields = Static<typeof GroupFieldsSchema>;
export type GroupFieldChanges = Static<typeof GroupFieldChangesSchema>;
export type NewUser = Static<typeof NewUserSchema>;
export type NewGroup = Static<typeof NewGroupSchema>;
export type AddUserChange = Static<typeof AddUserChangeSchema>;
export type UpdateUserChange = Static<typeof UpdateUserChangeSchema>;
export type RemovalReason = Static<typeof RemovalReasonSchema>;
export type RemoveUserChange = Static<typeof RemoveUserChangeSchema>;
export type AddGroupChange = Static<typeof AddGroupChangeSchema>;
export type UpdateGroupChange = Static<typeof UpdateGroupChangeSchema>;
export type RemoveGroupChange = Static<typeof RemoveGroupChangeSchema>;
export type Change = Static<typeof ChangeSchema>;
export type SkippedByReason = Static<typeof SkippedByReasonSchema>;
export type ExpectedLeftOut = Static<typeof ExpectedLeftOutSchema>;
export type SkippedEntry = Static<typeof SkippedEntrySchema>;
export type Plan = Static<typeof PlanSchema>;
export type WhatSwitches = Static<typeof WhatSwitchesSchema>;
export type HowSwitches = Static<typeof HowSwitchesSchema>;
export type DefaultRole = Static<typeof DefaultRoleSchema>;
export type SyncPolicy = Static<typeof SyncPolicySchema>;
export type ReadInfo = Static<typeof ReadInfoSchema>;
export type Preview = Static<typeof PreviewSchema>;
export type OutcomeUser = Static<typeof OutcomeUserSchema>;
export type OutcomeGroup = Static<typeof OutcomeGroupSchema>;
export type ChangeOutcome = Static<typeof ChangeOutcomeSchema>;
export type RunDecision = Static<typeof RunDecisionSchema>;
export type HoldReason = Static<typeof HoldReasonSchema>;
export type PlanView = Static<typeof PlanViewSchema>;
export type RunResult = Static<typeof RunResultSchema>;
export type SyncRun = Static<typeof RunRecordSchema>;
export type SyncRunDetail = Static<typeof RunDetailSchema>;
export type MailboxReads = Static<typeof MailboxReadsSchema>;
export type MailboxIssueCause = (typeof MAILBOX_ISSUE_CAUSES)[number];

/**
 * The what/how words that override the saved switches for one Search, preview or execute.
 * Strings, not an enum: an unknown word is refused by name, with the words it may be.
 */
export const runOverrideFields = {
  what: Type.Optional(
    Type.Array(Type.String({ maxLength: 20 }), {
      maxItems: 10,
      description: `words: ${WHAT_WORDS.join(', ')}`,
    }),
  ),
  how: Type.Optional(
    Type.Array(Type.String({ maxLength: 20 }), {
      maxItems: 10,
      description: `words: ${HOW_WORDS.join(', ')}`,
    }),
  ),
};
export const RunOverridesSchema = Type.Object(runOverrideFields, { additionalProperties: false });
export type RunOverrides = Static<typeof RunOverridesSchema>;

/** The changes of a plan left unticked, by change id: every other change is applied. */
const excludedChangeIds = Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1_000_000 }));

/** POST …/sync/execute: a stored preview (none: read and apply at once), its unticked changes, the run's overrides. */
export const ExecuteBodySchema = Type.Object(
  { planId: Type.Optional(Type.String({ maxLength: 64 })), excludedChangeIds, ...runOverrideFields },
  { additionalProperties: false },
);

/** POST …/sync/runs/{id}/approve: the held plan's unticked changes (without them every change is applied). */
export const ApproveBodySchema = Type.Object({ excludedChangeIds }, { additionalProperties: false });

export type ExecuteBody = Static<typeof ExecuteBodySchema>;
export type ApproveBody = Static<typeof ApproveBodySchema>;

/** GET …/sync/plans/{planId}: one page of one category of a stored plan. */
export const PlanPageQuerySchema = Type.Object(
  {
    // Checked by the service, so an unknown category is refused by name.
    category: Type.Optional(
      Type.String({
        maxLength: 40,
        description: 'a category, or skipped (default: the first with changes)',
      }),
    ),
    offset: Type.Integer({ minimum: 0, maximum: PLAN_OFFSET_MAX, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: PLAN_PAGE_MAX, default: 100 }),
    search: Type.Optional(Type.String({ maxLength: 200 })),
    // Checked by the service, so an unknown reason is refused by name.
    reason: Type.Optional(
      Type.String({
        maxLength: 40,
        description: `with category=skipped: only entries of this reason (${SKIP_REASONS.join(', ')})`,
      }),
    ),
  },
  { additionalProperties: false },
);

/** GET …/sync/runs: runs, newest first, narrowed by trigger, status and start date. */
export const RunListQuerySchema = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
    offset: Type.Integer({ minimum: 0, default: 0 }),
    // The words and dates are checked by the service, so a bad one is refused by name.
    trigger: Type.Optional(Type.String({ maxLength: 20, description: TRIGGERS.join(' | ') })),
    status: Type.Optional(Type.String({ maxLength: 40, description: RUN_STATUSES.join(' | ') })),
    from: Type.Optional(
      Type.String({
        maxLength: 40,
        description:
          'runs started on or after: a date (YYYY-MM-DD, from 00:00 UTC) or an ISO date-time with offset',
      }),
    ),
    to: Type.Optional(
      Type.String({
        maxLength: 40,
        description:
          'runs started before: a date (YYYY-MM-DD, that whole day included, UTC) or an ISO date-time with offset',
      }),
    ),
  },
  { additionalProperties: false },
);

export type PlanPageQuery = Static<typeof PlanPageQuerySchema>;
export type RunListQuery = Static<typeof RunListQuerySchema>;
