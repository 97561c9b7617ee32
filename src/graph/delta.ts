/**
 * Applying delta pages to a picture of the tenant (docs/graph-facts.md §3.2). Pure: no I/O.
 * - An initial round starts from nothing, a later round from the previous snapshot.
 * - A changed object carries at least its changed properties: present properties (null
 *   included) replace, absent ones keep the previous value.
 * - `@removed` (reason changed = soft-deleted, deleted = gone) removes the object, in any round.
 * - A group's `members@delta` may be split over several pages: each slice is applied on top of
 *   what the group already has. Member entries with `@removed` leave the group.
 * - Replays are harmless: every step sets state rather than toggling it.
 */
import { byExternalId, type SourceGroup, type SourceSnapshot, type SourceUser } from '../sync/source.js';
import { GraphError } from './errors.js';
import type { GroupItem, UserItem } from './schemas.js';

/** Member types that are people or groups of the mail service; contacts, devices and apps are not. */
const USER_TYPE = '#microsoft.graph.user';
const GROUP_TYPE = '#microsoft.graph.group';

/** Marks a property every new object must carry. */
const REQUIRED = Symbol('required');

/**
 * The value of `key` after a change: the item's when present, else the previous record's.
 * `required` makes a missing value (absent on a new object, or null) a malformed payload.
 */
function take<T extends object, K extends keyof T & string, V>(
  item: T,
  key: K,
  previous: V | undefined,
  convert: (value: NonNullable<T[K]>) => V,
  fallback: V | typeof REQUIRED,
  what: string,
): V {
  if (Object.hasOwn(item, key)) {
    const value = item[key];
    if (value !== null && value !== undefined) return convert(value as NonNullable<T[K]>);
    if (fallback !== REQUIRED) return fallback;
  } else if (previous !== undefined) {
    return previous;
  } else if (fallback !== REQUIRED) {
    return fallback;
  }
  throw new GraphError('malformed_payload', `${what}: required property ${key} is missing or null`);
}
const same = <V>(v: V) => v;
const list = (v: readonly string[]) => [...v];

/** Users being assembled from delta pages. */
export class UserDelta {
  private readonly users = new Map<string, SourceUser>();

  constructor(previous: readonly SourceUser[] = []) {
    for (const user of previous) this.users.set(user.externalId, user);
  }

  /** Applies one page's items, in order. */
  apply(items: readonly UserItem[]): void {
    for (const item of items) {
      if (item['@removed']) {
        this.users.delete(item.id);
        continue;
      }
      const prev = this.users.get(item.id);
      const what = `users delta: user ${item.id}`;
      this.users.set(item.id, {
        externalId: item.id,
        userPrincipalName: take(item, 'userPrincipalName', prev?.userPrincipalName, same, REQUIRED, what),
        userType: take(item, 'userType', prev?.userType, same, null, what),
        accountEnabled: take(item, 'accountEnabled', prev?.accountEnabled, same, REQUIRED, what),
        mail: take(item, 'mail', prev?.mail, same, null, what),
        proxyAddresses: take(item, 'proxyAddresses', prev?.proxyAddresses, list, [], what),
        givenName: take(item, 'givenName', prev?.givenName, same, null, what),
        surname: take(item, 'surname', prev?.surname, same, null, what),
        displayName: take(item, 'displayName', prev?.displayName, same, null, what),
        // Delta never carries the mailbox purpose: it is read apart, and kept until it may have changed.
        mailbox: prev?.mailbox ?? null,
      });
    }
  }

  /** The users, ordered by id. */
  result(): SourceUser[] {
    return [...this.users.values()].sort(byExternalId);
  }
}

/** A group while its membership is being assembled. */
interface GroupState {
  record: Omit<SourceGroup, 'memberUserIds' | 'memberGroupIds'>;
  users: Set<string>;
  groups: Set<string>;
}

/** Groups and their direct members being assembled from delta pages. */
export class GroupDelta {
  private readonly groups = new Map<string, GroupState>();

  constructor(previous: readonly SourceGroup[] = []) {
    for (const { memberUserIds, memberGroupIds, ...record } of previous) {
      this.groups.set(record.externalId, {
        record,
        users: new Set(memberUserIds),
        groups: new Set(memberGroupIds),
      });
    }
  }

  /** Applies one page's items, in order. */
  apply(items: readonly GroupItem[]): void {
    for (const item of items) {
      if (item['@removed']) {
        this.groups.delete(item.id);
        continue;
      }
      const prev = this.groups.get(item.id);
      const what = `groups delta: group ${item.id}`;
      const p = prev?.record;
      const record = {
        externalId: item.id,
        displayName: take(item, 'displayName', p?.displayName, same, REQUIRED, what),
        mail: take(item, 'mail', p?.mail, same, null, what),
        mailEnabled: take(item, 'mailEnabled', p?.mailEnabled, same, REQUIRED, what),
        securityEnabled: take(item, 'securityEnabled', p?.securityEnabled, same, REQUIRED, what),
        groupTypes: take(item, 'groupTypes', p?.groupTypes, list, [], what),
        proxyAddresses: take(item, 'proxyAddresses', p?.proxyAddresses, list, [], what),
      };
      const state: GroupState = {
        record,
        users: prev?.users ?? new Set(),
        groups: prev?.groups ?? new Set(),
      };
      for (const member of item['members@delta'] ?? []) {
        if (member['@removed']) {
          state.users.delete(member.id);
          state.groups.delete(member.id);
        } else if (member['@odata.type'] === USER_TYPE) {
          state.users.add(member.id);
        } else if (member['@odata.type'] === GROUP_TYPE) {
          state.groups.add(member.id);
        }
        // Other member types (orgContact, device, servicePrincipal) are not users of the mail service.
      }
      this.groups.set(item.id, state);
    }
  }

  /** The groups with sorted member ids, ordered by id. */
  result(): SourceGroup[] {
    return [...this.groups.values()]
      .map(({ record, users, groups }) => ({
        ...record,
        memberUserIds: [...users].sort(),
        memberGroupIds: [...groups].sort(),
      }))
      .sort(byExternalId);
  }
}

/** Builds a snapshot from finished user and group deltas. */
export function snapshotOf(users: UserDelta, groups: GroupDelta): SourceSnapshot {
  return { users: users.result(), groups: groups.result() };
}
