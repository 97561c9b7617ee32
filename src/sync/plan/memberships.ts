import type { Group, MemberRef } from '../../directory/model.js';
import type { PlannedMember } from '../changes.js';
import type { SourceGroup } from '../source.js';
import { cmp } from './fields.js';
import type { DirectoryView } from './view.js';

/**
 * Group memberships: a source group's member list as it will be once the plan is applied, and how
 * it differs from the directory group's. Members are named by what they will be (refs): an Entra
 * id whose object is not in the directory after the plan (a guest, a skipped or out-of-scope
 * object, an unknown id) is left out and counted.
 */

/** Entra id → the object as a member, for every user and group that exists once the plan is applied. */
export interface MemberRefs {
  users: ReadonlyMap<string, PlannedMember>;
  groups: ReadonlyMap<string, PlannedMember>;
}

/** How a group is shown as a member: its address, else its name. */
export const groupLabel = (g: { email: string | null; name: string }): string => g.email ?? g.name;

/** Identity of a member within a list: its directory id, else (added by this plan) its Entra id. */
function memberKey(m: PlannedMember): string {
  return m.id !== null ? `${m.type}:${m.id}` : `${m.type}+${m.externalId}`;
}

export function sortMembers(members: PlannedMember[]): PlannedMember[] {
  return members.sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.label, b.label) ||
      cmp(a.externalId ?? '', b.externalId ?? '') ||
      cmp(a.id ?? '', b.id ?? ''),
  );
}

/**
 * The members a source group will have: its direct members that exist once the plan is applied,
 * unsorted (a new group's list is sorted by its caller; an update needs only the difference).
 */
export function plannedMembers(
  s: SourceGroup,
  refs: MemberRefs,
): { members: PlannedMember[]; membersLeftOut: number } {
  const members: PlannedMember[] = [];
  const keys = new Set<string>();
  let membersLeftOut = 0;
  const addMember = (ref: PlannedMember | undefined) => {
    if (!ref) {
      membersLeftOut++;
      return;
    }
    const key = memberKey(ref);
    if (keys.has(key)) return;
    keys.add(key);
    members.push(ref);
  };
  for (const id of new Set(s.memberUserIds)) addMember(refs.users.get(id));
  // A group never contains itself, whatever Entra says.
  for (const id of new Set(s.memberGroupIds)) {
    if (id !== s.externalId) addMember(refs.groups.get(id));
  }
  return { members, membersLeftOut };
}

/** A directory group's member as a plan shows it (a member not in the directory keeps its id as label). */
function currentMember(m: MemberRef, directory: DirectoryView): PlannedMember {
  if (m.type === 'user') {
    const u = directory.usersById.get(m.id);
    return { type: 'user', id: m.id, externalId: u?.externalId ?? null, label: u?.email ?? m.id };
  }
  const g = directory.groupsById.get(m.id);
  return { type: 'group', id: m.id, externalId: g?.externalId ?? null, label: g ? groupLabel(g) : m.id };
}

/**
 * The difference between a directory group's members and the planned ones, each side sorted;
 * null when there is none. Only the difference is kept: a change to a group of 10,000 members
 * that adds one carries one member, not two lists of 10,000.
 */
export function membershipChange(
  target: Group,
  planned: readonly PlannedMember[],
  directory: DirectoryView,
): { added: PlannedMember[]; removed: PlannedMember[] } | null {
  // Keyed as memberKey keys a directory member (it always has an id); only the removed ones are
  // shown, so only those are looked up (groups of thousands mostly change by a few).
  const currentKeys = new Set(target.members.map((m) => `${m.type}:${m.id}`));
  const plannedKeys = new Set(planned.map(memberKey));
  const added = planned.filter((m) => !currentKeys.has(memberKey(m)));
  const removed = target.members
    .filter((m) => !plannedKeys.has(`${m.type}:${m.id}`))
    .map((m) => currentMember(m, directory));
  if (added.length === 0 && removed.length === 0) return null;
  return { added: sortMembers(added), removed: sortMembers(removed) };
}

/** Entra ids of users and of groups. */
export interface MemberDelta {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

/** The objects of a focus, by Entra id: a group read in part holds only its members among them. */
export interface FocusedObjects extends MemberDelta {
  /** The groups of the focus read in part (src/sync/focus.ts closeFocus). */
  readInPart?: ReadonlySet<string>;
  /** Per group read in part: the members its record gained or lost, compared as well. */
  memberDelta?: ReadonlyMap<string, MemberDelta>;
}

/**
 * Thrown when a group read in part turns out to need its whole member list (it would be added):
 * the focus it was judged in assumed it in step, so the caller plans in full instead.
 */
export class WholeGroupNeeded extends Error {
  constructor(readonly externalId: string) {
    super(`The group ${externalId} was read in part, but its whole member list is needed.`);
  }
}

/**
 * The membership change of a group read in part (CurrentDirectory.memberTotals), and how many of
 * its members are left out — what membershipChange and plannedMembers give for the whole group,
 * provided the group is in step with the directory but for the focused objects and the members
 * its record gained or lost (`focused.memberDelta`): every other member keeps its ref, so only
 * those can be added or removed, and the ones left out are the rest of the source list beyond
 * what the directory holds.
 */
export function partialMembershipChange(
  target: Group,
  s: SourceGroup,
  refs: MemberRefs,
  focused: FocusedObjects,
  total: number,
  directory: DirectoryView,
): { change: { added: PlannedMember[]; removed: PlannedMember[] } | null; membersLeftOut: number } {
  const delta = focused.memberDelta?.get(s.externalId);
  const compared = {
    user: (ext: string) => focused.users.has(ext) || (delta?.users.has(ext) ?? false),
    group: (ext: string) => focused.groups.has(ext) || (delta?.groups.has(ext) ?? false),
  };
  const listedUsers = new Set(s.memberUserIds);
  const listedGroups = new Set(s.memberGroupIds);
  listedGroups.delete(s.externalId);
  const planned: PlannedMember[] = [];
  for (const id of listedUsers) {
    const ref = compared.user(id) ? refs.users.get(id) : undefined;
    if (ref) planned.push(ref);
  }
  for (const id of listedGroups) {
    const ref = compared.group(id) ? refs.groups.get(id) : undefined;
    if (ref) planned.push(ref);
  }
  // What the directory holds of the group may include memberships read for another group's sake.
  const held = target.members.filter((m) => {
    const ext = (m.type === 'user' ? directory.usersById : directory.groupsById).get(m.id)?.externalId;
    return typeof ext === 'string' && compared[m.type](ext);
  });
  const change = membershipChange({ ...target, members: held }, planned, directory);
  const kept = total - held.length + planned.length;
  return { change, membersLeftOut: listedUsers.size + listedGroups.size - kept };
}
