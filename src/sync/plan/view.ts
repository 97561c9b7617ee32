import { AppError } from '../../directory/errors.js';
import type { Group, User } from '../../directory/model.js';
import type { SourceGroup, SourceSnapshot, SourceUser } from '../source.js';

/**
 * Keyed views of the two sides plan() compares: the directory by directory id and by Entra id,
 * and the snapshot by Entra id. The comparers look objects up here instead of scanning lists, so
 * each can be run over any set of keys.
 */

/** The organization's directory as plan() sees it. */
export interface CurrentDirectory {
  orgId: string;
  /** Proven domains: addresses in them are synced. */
  domains: string[];
  /** Domains added but not proven yet: addresses in them are skipped, saying so. */
  pendingDomains: string[];
  users: User[];
  groups: Group[];
  /**
   * Groups read in part (focused planning, src/sync/focus.ts), by directory id: how many members
   * each has in all. Their `members` hold only those that are objects of the focus.
   */
  memberTotals?: ReadonlyMap<string, number>;
}

/** The directory, keyed. */
export interface DirectoryView {
  usersById: ReadonlyMap<string, User>;
  groupsById: ReadonlyMap<string, Group>;
  /** Objects linked to Entra, by Entra id (hand-made objects without one are not here). */
  usersByExternalId: ReadonlyMap<string, User>;
  groupsByExternalId: ReadonlyMap<string, Group>;
  /** See CurrentDirectory.memberTotals: empty when every group was read whole. */
  memberTotals: ReadonlyMap<string, number>;
}

/** The snapshot, keyed by Entra id, in the order Entra listed it. */
export interface SourceView {
  users: ReadonlyMap<string, SourceUser>;
  groups: ReadonlyMap<string, SourceGroup>;
}

export function viewDirectory(current: CurrentDirectory): DirectoryView {
  return {
    usersById: new Map(current.users.map((u) => [u.id, u])),
    groupsById: new Map(current.groups.map((g) => [g.id, g])),
    usersByExternalId: byExternalId(current.users),
    groupsByExternalId: byExternalId(current.groups),
    memberTotals: current.memberTotals ?? new Map(),
  };
}

/**
 * Keys the snapshot by Entra id. Users are read only when they are synced (`readUsers`), so that
 * a broken user list does not stop a sync of groups alone.
 */
export function viewSource(source: SourceSnapshot, readUsers: boolean): SourceView {
  return {
    users: readUsers ? uniqueByExternalId(source.users, 'the user') : new Map(),
    groups: uniqueByExternalId(source.groups, 'the group'),
  };
}

/** Indexes objects by external id; on a (corrupt) duplicate the smallest directory id wins. */
function byExternalId<T extends User | Group>(objects: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const o of objects) {
    if (!o.externalId) continue;
    const seen = map.get(o.externalId);
    if (!seen || o.id < seen.id) map.set(o.externalId, o);
  }
  return map;
}

/**
 * Checks that no object appears twice. The connector merges pages and deltas by id; a duplicate
 * means the snapshot is broken, and guessing which copy is current could undo a real change.
 * (No sorting here: every output list is sorted at the end, which is what makes plans
 * independent of input order.)
 */
function uniqueByExternalId<T extends { externalId: string }>(
  items: readonly T[],
  what: string,
): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) {
    if (map.has(item.externalId)) {
      throw new AppError('internal', `The Entra snapshot lists ${what} ${item.externalId} twice.`);
    }
    map.set(item.externalId, item);
  }
  return map;
}

/** True when the object is one of the directory's users (rather than a group). */
export function isDirectoryUser(view: DirectoryView, o: User | Group): o is User {
  return view.usersById.get(o.id) === o;
}

/** The object as a conflict message names it: hand-made, or synced from which Entra object. */
export function describe(view: DirectoryView, o: User | Group): string {
  const isUser = isDirectoryUser(view, o);
  const what = isUser ? 'user' : 'group';
  const label = isUser ? o.email : ((o as Group).email ?? (o as Group).name);
  if (o.source === 'manual' || !o.externalId) return `the hand-made ${what} ${label}`;
  return `the ${what} ${label} (Entra object ${o.externalId})`;
}

/** Every key of one kind in either view: Entra ids in the source or linked in the directory. */
export function unionKeys(...maps: ReadonlyMap<string, unknown>[]): Set<string> {
  const keys = new Set<string>();
  for (const m of maps) for (const k of m.keys()) keys.add(k);
  return keys;
}
