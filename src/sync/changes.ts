import { createHash } from 'node:crypto';
import type {
  AddGroupChange,
  AddUserChange,
  Change,
  ExpectedLeftOut,
  GroupFieldChanges,
  GroupFields,
  NewGroup,
  NewUser,
  Plan,
  PlannedMember,
  RemovalReason,
  RemoveGroupChange,
  RemoveUserChange,
  SkippedByReason,
  SkippedEntry,
  UpdateGroupChange,
  UpdateUserChange,
  UserFields,
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

// The shapes that cross the wire: static types of the HTTP contract's schemas (src/contract/sync.ts).
export type {
  AddGroupChange,
  AddUserChange,
  Change,
  ExpectedLeftOut,
  GroupFieldChanges,
  GroupFields,
  NewGroup,
  NewUser,
  Plan,
  PlannedMember,
  RemovalReason,
  RemoveGroupChange,
  RemoveUserChange,
  SkippedByReason,
  SkippedEntry,
  UpdateGroupChange,
  UpdateUserChange,
  UserFields,
};

/** Reasons whose object is still synced (only one address is left out). */
export const WARNING_REASONS: ReadonlySet<SkipReason> = new Set([
  'alias_invalid',
  'alias_foreign_domain',
  'alias_pending_domain',
  'alias_conflict',
]);

/** Counts skipped entries by reason, every code present (0 when none). */
export function skippedByReason(entries: readonly { reason: SkipReason }[]): SkippedByReason {
  const counts = Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as SkippedByReason;
  for (const e of entries) counts[e.reason]++;
  return counts;
}

/** A count per category, every category present. */
export function zeroCounts(): Record<Category, number> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
}

/** A plan with no change, no skipped entry and every count zero. */
export function emptyPlan(): Plan {
  return {
    usersToAdd: [],
    usersToUpdate: [],
    usersToRemove: [],
    groupsToAdd: [],
    groupsToUpdate: [],
    groupsToRemove: [],
    skipped: [],
    skippedByReason: skippedByReason([]),
    expectedLeftOut: { initialDomainAliases: 0 },
    unchanged: 0,
    switchedOff: zeroCounts(),
    blockedSignIn: { functional: 0, person: 0, rule: 0 },
    seats: { before: 0, after: 0 },
  };
}

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
