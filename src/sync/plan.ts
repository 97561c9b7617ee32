import type { User } from '../directory/model.js';
import { recipientFacts } from '../directory/recipients.js';
import { type Change, type Plan, skippedByReason, type UserFields } from './changes.js';
import { addressHolders, orgDomains, settleAddresses } from './plan/addresses.js';
import { newReport, type PlanContext } from './plan/context.js';
import { cmp } from './plan/fields.js';
import { compareGroups, scopeGroups } from './plan/groups.js';
import { compareUsers, scopeUsers } from './plan/users.js';
import { type CurrentDirectory, viewDirectory, viewSource } from './plan/view.js';
import type { SyncPolicy } from './policy.js';
import type { SourceSnapshot } from './source.js';

/**
 * plan(): compares the directory with an Entra snapshot and lists the changes sync would make.
 * Pure: no I/O, no clock, no randomness; the same input (in any order) gives the same plan.
 *
 * This file orchestrates; each rule lives in one place under plan/:
 *   view.ts         the directory and the snapshot keyed by directory id and Entra id;
 *   addresses.ts    domain rules, who holds which address, conflicts, linking hand-made users;
 *   users.ts        scope of Entra users, and the user comparer (add, update, remove);
 *   groups.ts       scope of Entra groups, and the group comparer (add, update, remove);
 *   memberships.ts  member lists as they will be, and their difference;
 *   context.ts      what the comparers share: policy, views, and the report (skipped, counts).
 * The comparers take the keys (Entra ids) to compare, all by default.
 *
 * Addresses are judged against the directory as it is now (see plan/addresses.ts), so every
 * planned change is valid on its own, whichever subset the admin ticks.
 */

export { NAME_MAX } from './plan/fields.js';
export type { CurrentDirectory } from './plan/view.js';

/** What every comparer of one plan reads (policy, keyed directory, address rules) and writes (the report). */
export function planContext(
  current: CurrentDirectory,
  policy: SyncPolicy,
  keyed: KeyedDirectory = keyDirectory(current),
): PlanContext {
  return {
    policy,
    ...keyed,
    report: newReport(),
  };
}

/** The read-only part of a context: the directory keyed, its domains and address holders. */
export type KeyedDirectory = Pick<PlanContext, 'domains' | 'directory' | 'holders'>;

/** Keys a directory once, for several contexts over it (focused planning judges it three times). */
export function keyDirectory(current: CurrentDirectory): KeyedDirectory {
  return {
    domains: orgDomains(current),
    directory: viewDirectory(current),
    holders: addressHolders(current),
  };
}

/** Plans the changes that bring the directory in step with the Entra snapshot under the policy. */
export function plan(current: CurrentDirectory, source: SourceSnapshot, policy: SyncPolicy): Plan {
  const sourceView = viewSource(source, policy.what.users);
  const ctx = planContext(current, policy);

  // Scope first, then addresses across users and groups together (they share one address
  // space), then each kind compared; groups last, as their member lists name users.
  const users = scopeUsers(ctx, sourceView);
  const groups = scopeGroups(ctx, sourceView);
  settleAddresses(ctx, [...users.candidates.values(), ...groups.candidates.values()]);
  const userChanges = compareUsers(ctx, users);
  const groupChanges = compareGroups(ctx, groups, userChanges.refs);

  const { report } = ctx;
  const skipped = report.skipped.sort(
    (a, b) =>
      cmp(a.objectType, b.objectType) ||
      cmp(a.reason, b.reason) ||
      cmp(a.address ?? '', b.address ?? '') ||
      cmp(a.externalId ?? '', b.externalId ?? '') ||
      cmp(a.message, b.message),
  );
  const userList = [...userChanges.toAdd, ...userChanges.toUpdate, ...userChanges.toRemove];
  return {
    usersToAdd: sortChanges(userChanges.toAdd),
    usersToUpdate: sortChanges(userChanges.toUpdate),
    usersToRemove: sortChanges(userChanges.toRemove),
    groupsToAdd: sortChanges(groupChanges.toAdd),
    groupsToUpdate: sortChanges(groupChanges.toUpdate),
    groupsToRemove: sortChanges(groupChanges.toRemove),
    skipped,
    skippedByReason: skippedByReason(skipped),
    expectedLeftOut: { initialDomainAliases: report.initialDomainAliases },
    unchanged: report.unchanged,
    switchedOff: report.switchedOff,
    blockedSignIn: report.blockedSignIn,
    seats: {
      before: current.users.filter(billable).length,
      after: billableAfter(current.users, userList),
    },
  };
}

/** Changes in the order the preview lists them: by address, then name, then Entra id. */
function sortChanges<C extends Change>(changes: C[]): C[] {
  return changes.sort(
    (a, b) => cmp(a.address ?? '', b.address ?? '') || cmp(a.name, b.name) || cmp(a.externalId, b.externalId),
  );
}

const billable = (u: Pick<User, 'status' | 'role' | 'mailbox'>) => recipientFacts(u).billable;

/** Billable users once `changes` (of a plan, or the part of it applied) are applied to `users`. */
export function billableAfter(users: readonly User[], changes: readonly Change[]): number {
  const updated = new Map<string, Partial<UserFields>>();
  const gone = new Set<string>();
  let after = 0;
  for (const c of changes) {
    if (c.kind === 'add_user' && billable(c.user)) after++;
    else if (c.kind === 'update_user') updated.set(c.userId, c.after);
    else if (c.kind === 'remove_user') gone.add(c.userId);
  }
  for (const u of users) if (!gone.has(u.id) && billable({ ...u, ...updated.get(u.id) })) after++;
  return after;
}
