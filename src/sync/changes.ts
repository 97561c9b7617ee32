import { createHash } from 'node:crypto';
import type { Static } from 'typebox';
import type {
  AddGroupChangeSchema,
  AddUserChangeSchema,
  ChangeSchema,
  ExpectedLeftOutSchema,
  GroupFieldsSchema,
  NewGroupSchema,
  NewUserSchema,
  PlannedMemberSchema,
  PlanSchema,
  RemovalReasonSchema,
  RemoveGroupChangeSchema,
  RemoveUserChangeSchema,
  SkippedByReasonSchema,
  SkippedEntrySchema,
  UpdateGroupChangeSchema,
  UpdateUserChangeSchema,
  UserFieldsSchema,
} from '../contract/sync.js';
import { CATEGORIES, type Category, SKIP_REASONS, type SkipReason } from './categories.js';

// Pure values of the plan's shape, in a module the console imports too; re-exported for the server.
export { CATEGORIES, type Category, SKIP_REASONS, type SkipReason };

/**
 * The change kinds a plan is made of: a tagged union on `kind`. Each change carries what a
 * person needs to judge it (external id, address, name, before/after of the fields that change)
 * and what apply needs to carry it out (the directory id it targets, or the full new record).
 * The shapes are the HTTP contract's schemas (src/contract/sync.ts, where each is described):
 * a preview is served as it is planned, so the planner's types are the schemas' static types.
 */

/** A member of a group as a plan shows it: readable (label) and resolvable (id or external id). */
export type PlannedMember = Static<typeof PlannedMemberSchema>;
/** The user fields sync owns (never the role). */
export type UserFields = Static<typeof UserFieldsSchema>;
/** The group fields sync owns. */
export type GroupFields = Static<typeof GroupFieldsSchema>;
/** A user as it will be created. */
export type NewUser = Static<typeof NewUserSchema>;
/** A group as it will be created (members may refer to objects added by the same plan). */
export type NewGroup = Static<typeof NewGroupSchema>;
/** A new user from Entra. */
export type AddUserChange = Static<typeof AddUserChangeSchema>;
/** An existing user changed to match Entra (`linked`: a hand-made user taken over by sync). */
export type UpdateUserChange = Static<typeof UpdateUserChangeSchema>;
/** Why an object is removed: gone from Entra, or still there but no longer in scope. */
export type RemovalReason = Static<typeof RemovalReasonSchema>;
/** A synced user that is gone from Entra or out of scope. */
export type RemoveUserChange = Static<typeof RemoveUserChangeSchema>;
/** A new group from Entra, with its members. */
export type AddGroupChange = Static<typeof AddGroupChangeSchema>;
/** An existing group changed to match Entra; membership changes are listed as added/removed too. */
export type UpdateGroupChange = Static<typeof UpdateGroupChangeSchema>;
/** A synced group that is gone from Entra or out of scope. */
export type RemoveGroupChange = Static<typeof RemoveGroupChangeSchema>;
/** Any planned change. */
export type Change = Static<typeof ChangeSchema>;

/** Reasons whose object is still synced (only one address is left out). */
export const WARNING_REASONS: ReadonlySet<SkipReason> = new Set([
  'alias_invalid',
  'alias_foreign_domain',
  'alias_pending_domain',
  'alias_conflict',
]);

/** Skipped entries per reason code: every code, zero included (a stable shape to print and chart). */
export type SkippedByReason = Static<typeof SkippedByReasonSchema>;

/** Counts skipped entries by reason, every code present (0 when none). */
export function skippedByReason(entries: readonly { reason: SkipReason }[]): SkippedByReason {
  const counts = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as SkippedByReason;
  for (const e of entries) counts[e.reason]++;
  return counts;
}

/**
 * What sync leaves out because every tenant has it, counted instead of listed per object
 * (docs/sync-rules.md): aliases in Microsoft's initial and routing domains
 * (`*.onmicrosoft.com`, `*.mail.onmicrosoft.com`) that are not among the organization's domains.
 */
export type ExpectedLeftOut = Static<typeof ExpectedLeftOutSchema>;

/** Something sync did not do, and why, in a sentence an admin can act on. */
export type SkippedEntry = Static<typeof SkippedEntrySchema>;

/** The categorised result of plan(); the service adds planId/expiry when it stores it. */
export type Plan = Static<typeof PlanSchema>;

const ID_PREFIX: Record<Change['kind'], string> = {
  add_user: 'au',
  update_user: 'uu',
  remove_user: 'ru',
  add_group: 'ag',
  update_group: 'ug',
  remove_group: 'rg',
};

/**
 * The id of a change: a hash of its kind, object and the values it would write (and, for
 * updates, the values it expects to find), so an unticked change keeps its id across previews
 * for as long as it means the same thing, and a different target value gives another id.
 */
export function changeId(kind: Change['kind'], externalId: string, content: unknown): string {
  const hash = createHash('sha256')
    .update(JSON.stringify([kind, externalId, content]))
    .digest('hex');
  return `${ID_PREFIX[kind]}_${hash.slice(0, 16)}`;
}
