import { type SourceGroup, type SourceSnapshot, type SourceUser, sameRecord } from './source.js';

/**
 * What turns one source snapshot into the next, row by row: the records to write, the objects
 * gone, the direct memberships added and removed. The source mirror (src/store/source-repository.ts)
 * applies it in an apply's transaction, so a 1 % change writes 1 % of the rows. Pure: no I/O.
 */
export interface SourceChanges {
  /** Users new or changed: written whole. */
  users: SourceUser[];
  /** Those of `users` the mirror holds already (changed, not new): their rows are replaced. */
  replacedUsers: string[];
  removedUsers: string[];
  /** Groups whose own record is new or changed (the member lists apart). */
  groups: GroupRecord[];
  /** Those of `groups` the mirror holds already. */
  replacedGroups: string[];
  /** Removed groups: their memberships go with them (not listed in removedMembers). */
  removedGroups: string[];
  addedMembers: SourceMembership[];
  removedMembers: SourceMembership[];
}

/** A group's own record: what the source mirror keeps in source_groups. */
export type GroupRecord = Omit<SourceGroup, 'memberUserIds' | 'memberGroupIds'>;

/** One direct membership, by Entra ids. */
export interface SourceMembership {
  groupId: string;
  type: 'user' | 'group';
  memberId: string;
}

/** The changes from `previous` (null: nothing mirrored yet) to `next`. */
export function sourceChanges(previous: SourceSnapshot | null, next: SourceSnapshot): SourceChanges {
  const changes: SourceChanges = {
    users: [],
    replacedUsers: [],
    removedUsers: [],
    groups: [],
    replacedGroups: [],
    removedGroups: [],
    addedMembers: [],
    removedMembers: [],
  };
  const oldUsers = new Map((previous?.users ?? []).map((u) => [u.externalId, u]));
  for (const u of next.users) {
    const was = oldUsers.get(u.externalId);
    oldUsers.delete(u.externalId);
    if (was && sameRecord(was, u)) continue;
    changes.users.push(u);
    if (was) changes.replacedUsers.push(u.externalId);
  }
  changes.removedUsers = [...oldUsers.keys()];

  const oldGroups = new Map((previous?.groups ?? []).map((g) => [g.externalId, g]));
  for (const g of next.groups) {
    const was = oldGroups.get(g.externalId);
    oldGroups.delete(g.externalId);
    const { memberUserIds, memberGroupIds, ...record } = g;
    if (!was || !sameRecord(recordOf(was), record)) {
      changes.groups.push(record);
      if (was) changes.replacedGroups.push(g.externalId);
    }
    if (was === g) continue;
    diffMembers(g.externalId, 'user', was?.memberUserIds ?? [], memberUserIds, changes);
    diffMembers(g.externalId, 'group', was?.memberGroupIds ?? [], memberGroupIds, changes);
  }
  changes.removedGroups = [...oldGroups.keys()];
  return changes;
}

/** Whether the changes write nothing. */
export function noSourceChanges(c: SourceChanges): boolean {
  return (
    c.users.length +
      c.removedUsers.length +
      c.groups.length +
      c.removedGroups.length +
      c.addedMembers.length +
      c.removedMembers.length ===
    0
  );
}

function recordOf({ memberUserIds: _u, memberGroupIds: _g, ...record }: SourceGroup): GroupRecord {
  return record;
}

function diffMembers(
  groupId: string,
  type: 'user' | 'group',
  before: readonly string[],
  after: readonly string[],
  changes: SourceChanges,
): void {
  if (before === after) return;
  const old = new Set(before);
  for (const id of after) {
    if (!old.delete(id)) changes.addedMembers.push({ groupId, type, memberId: id });
  }
  for (const id of old) changes.removedMembers.push({ groupId, type, memberId: id });
}
