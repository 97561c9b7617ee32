import { createHash } from 'node:crypto';
import type { GroupKind, Role, Source, UserStatus } from '../directory/model.js';
import type { MailboxKind, StatusDecision } from '../directory/recipients.js';
import { CATEGORIES, type Category, SKIP_REASONS, type SkipReason } from './categories.js';

// Pure values of the plan's shape, in a module the console imports too; re-exported for the server.
export { CATEGORIES, type Category, SKIP_REASONS, type SkipReason };

/**
 * The change kinds a plan is made of: a tagged union on `kind`. Each change carries what a
 * person needs to judge it (external id, address, name, before/after of the fields that change)
 * and what apply needs to carry it out (the directory id it targets, or the full new record).
 */

/** A member of a group as a plan shows it: readable (label) and resolvable (id or external id). */
export interface PlannedMember {
  type: 'user' | 'group';
  /** Directory id when the member already exists; null when it is added by this plan. */
  id: string | null;
  /** Entra object id; null only for a hand-made member in a `before` list. */
  externalId: string | null;
  /** The user's address; the group's address, else its name. */
  label: string;
}

/** The user fields sync owns (never the role). */
export interface UserFields {
  email: string;
  aliases: string[];
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  status: UserStatus;
  mailbox: MailboxKind | null;
  source: Source;
  externalId: string | null;
}

/** The group fields sync owns. */
export interface GroupFields {
  name: string;
  kind: GroupKind;
  email: string | null;
  aliases: string[];
  members: PlannedMember[];
}

/** A user as it will be created. */
export interface NewUser extends Omit<UserFields, 'source' | 'externalId'> {
  role: Role;
  source: 'entra';
  externalId: string;
}

/** A group as it will be created (members may refer to objects added by the same plan). */
export interface NewGroup extends GroupFields {
  source: 'entra';
  externalId: string;
}

interface ChangeBase {
  /** Stable: the same pending change gets the same id in the next preview. */
  id: string;
  externalId: string;
  address: string | null;
  name: string;
}

/** A new user from Entra. */
export interface AddUserChange extends ChangeBase {
  kind: 'add_user';
  address: string;
  user: NewUser;
}

/**
 * An existing user changed to match Entra. `linked`: a hand-made user with the same primary
 * address is taken over by sync (before/after show source manual→entra, externalId null→id).
 */
export interface UpdateUserChange extends ChangeBase {
  kind: 'update_user';
  reason: 'changed' | 'linked';
  userId: string;
  before: Partial<UserFields>;
  after: Partial<UserFields>;
}

/** Why an object is removed: gone from Entra, or still there but no longer in scope. */
export type RemovalReason = 'deleted' | 'out_of_scope';

/** A synced user that is gone from Entra or out of scope. */
export interface RemoveUserChange extends ChangeBase {
  kind: 'remove_user';
  reason: RemovalReason;
  /** A sentence saying why (e.g. "now a guest user"). */
  message: string;
  userId: string;
}

/** A new group from Entra, with its members. */
export interface AddGroupChange extends ChangeBase {
  kind: 'add_group';
  group: NewGroup;
  /** Entra members left out because they are not in the directory (guests, skipped, out of scope). */
  membersLeftOut: number;
}

/** An existing group changed to match Entra; membership changes are listed as added/removed too. */
export interface UpdateGroupChange extends ChangeBase {
  kind: 'update_group';
  groupId: string;
  before: Partial<GroupFields>;
  after: Partial<GroupFields>;
  membersAdded: PlannedMember[];
  membersRemoved: PlannedMember[];
  membersLeftOut: number;
}

/** A synced group that is gone from Entra or out of scope. */
export interface RemoveGroupChange extends ChangeBase {
  kind: 'remove_group';
  reason: RemovalReason;
  message: string;
  groupId: string;
}

/** Any planned change. */
export type Change =
  | AddUserChange
  | UpdateUserChange
  | RemoveUserChange
  | AddGroupChange
  | UpdateGroupChange
  | RemoveGroupChange;

/** Reasons whose object is still synced (only one address is left out). */
export const WARNING_REASONS: ReadonlySet<SkipReason> = new Set([
  'alias_invalid',
  'alias_foreign_domain',
  'alias_pending_domain',
  'alias_conflict',
]);

/** Skipped entries per reason code: every code, zero included (a stable shape to print and chart). */
export type SkippedByReason = Record<SkipReason, number>;

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
export interface ExpectedLeftOut {
  initialDomainAliases: number;
}

/** Something sync did not do, and why, in a sentence an admin can act on. */
export interface SkippedEntry {
  reason: SkipReason;
  message: string;
  objectType: 'user' | 'group';
  externalId?: string;
  address?: string;
  name?: string;
}

/** The categorised result of plan(); the service adds planId/expiry when it stores it. */
export interface Plan {
  usersToAdd: AddUserChange[];
  usersToUpdate: UpdateUserChange[];
  usersToRemove: RemoveUserChange[];
  groupsToAdd: AddGroupChange[];
  groupsToUpdate: UpdateGroupChange[];
  groupsToRemove: RemoveGroupChange[];
  skipped: SkippedEntry[];
  /** `skipped` counted per reason code (every code, zero included). */
  skippedByReason: SkippedByReason;
  /** Left out as expected and only counted, not listed in `skipped`. */
  expectedLeftOut: ExpectedLeftOut;
  /** Objects in scope that already match Entra. */
  unchanged: number;
  /** Changes that would have been planned but whose how-switch is off, per category. */
  switchedOff: Record<Category, number>;
  /** Users in scope whose sign-in is blocked, by what decided their status (recipients.ts). */
  blockedSignIn: Record<Exclude<StatusDecision, 'enabled'>, number>;
  /** Billable users (active, not functional accounts) now, and once every planned change is applied. */
  seats: { before: number; after: number };
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
