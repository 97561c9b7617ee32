import { invalid } from '../directory/errors.js';
import type {
  AddGroupChange,
  AddUserChange,
  Change,
  Plan,
  RemoveGroupChange,
  RemoveUserChange,
  UpdateGroupChange,
  UpdateUserChange,
} from './changes.js';

/**
 * What apply runs, and in which order. Each step is one kind of write:
 *
 * 1. `create_groups`   group rows (no members yet), so that anything may refer to them;
 * 2. `add_users`       user rows, so that memberships can refer to them;
 * 3. `update_users`    renames, aliases, deactivation/reactivation, links of hand-made users;
 * 4. `update_groups`   group fields (name, kind, address, aliases), not members;
 * 5. `set_memberships` the member lists of added and updated groups, once every user and group
 *                      they name exists; members are given by directory id or, for objects added
 *                      in step 1–2, by Entra id (apply resolves those; one whose add was unticked
 *                      does not exist and is left out, to be planned again next time);
 * 6. `remove_groups`   after memberships, so no member list written above names a deleted group;
 * 7. `remove_users`    last: by then no group refers to them, and a run that stops early has
 *                      deleted nothing.
 *
 * Addresses need no ordering: plan() never gives an object an address another object still
 * holds (see plan/addresses.ts), so adds and updates do not depend on removals or on each other.
 */
export type ApplyStep =
  | { step: 'create_groups'; changes: AddGroupChange[] }
  | { step: 'add_users'; changes: AddUserChange[] }
  | { step: 'update_users'; changes: UpdateUserChange[] }
  | { step: 'update_groups'; changes: UpdateGroupChange[] }
  | { step: 'set_memberships'; changes: (AddGroupChange | UpdateGroupChange)[] }
  | { step: 'remove_groups'; changes: RemoveGroupChange[] }
  | { step: 'remove_users'; changes: RemoveUserChange[] };

/** The result of selecting: the steps to run, and the changes the admin unticked. */
export interface Selection {
  steps: ApplyStep[];
  excluded: Change[];
}

/** Every change of a plan, category by category. */
export function allChanges(plan: Plan): Change[] {
  return [
    ...plan.usersToAdd,
    ...plan.usersToUpdate,
    ...plan.usersToRemove,
    ...plan.groupsToAdd,
    ...plan.groupsToUpdate,
    ...plan.groupsToRemove,
  ];
}

/**
 * The changes of a plan minus the unticked ones, in apply order (always all seven steps, some
 * perhaps empty). An id that is not in the plan is an error, not ignored: a typo or a stale
 * preview must not turn into a change the admin meant to hold back.
 */
export function selectChanges(plan: Plan, excludedIds: Iterable<string>): Selection {
  const excludedSet = new Set(excludedIds);
  const known = new Set(allChanges(plan).map((c) => c.id));
  const unknown = [...excludedSet].filter((id) => !known.has(id)).sort();
  if (unknown.length > 0) {
    throw invalid(
      'excludedChangeIds',
      `${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a change of this plan: preview again and untick the changes from the new preview.`,
    );
  }
  const keep = <C extends Change>(changes: C[]): C[] => changes.filter((c) => !excludedSet.has(c.id));
  const groupsToAdd = keep(plan.groupsToAdd);
  const groupsToUpdate = keep(plan.groupsToUpdate);
  const memberships = [
    ...groupsToAdd.filter((c) => c.group.members.length > 0),
    ...groupsToUpdate.filter((c) => c.membersAdded.length + c.membersRemoved.length > 0),
  ];
  return {
    steps: [
      { step: 'create_groups', changes: groupsToAdd },
      { step: 'add_users', changes: keep(plan.usersToAdd) },
      { step: 'update_users', changes: keep(plan.usersToUpdate) },
      { step: 'update_groups', changes: groupsToUpdate },
      { step: 'set_memberships', changes: memberships },
      { step: 'remove_groups', changes: keep(plan.groupsToRemove) },
      { step: 'remove_users', changes: keep(plan.usersToRemove) },
    ],
    excluded: allChanges(plan).filter((c) => excludedSet.has(c.id)),
  };
}
