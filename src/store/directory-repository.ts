import { type Kysely, sql, type Transaction } from 'kysely';
import type { Group, GroupKind, MemberRef, Role, Source, User, UserStatus } from '../directory/model.js';
import { FUNCTIONAL_MAILBOXES, type MailboxFilter, type MailboxKind } from '../directory/recipients.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Paging and search for lists. */
export interface ListQuery {
  search?: string;
  limit: number;
  offset: number;
}

/** A user list: also narrowed by mailbox purpose. */
export interface UserListQuery extends ListQuery {
  mailbox?: MailboxFilter;
}

/** One owner of an address, anywhere in the service. */
export interface AddressOwner {
  address: string;
  orgId: string;
  ownerType: 'user' | 'group';
  ownerId: string;
  isPrimary: boolean;
}

/**
 * Reads and writes one organization's users, groups, addresses and memberships. Built for one
 * organization: no method can touch another's rows (the one service-wide read is addressOwners,
 * which uniqueness checks need).
 */
export class DirectoryRepository {
  constructor(
    private readonly db: Db,
    readonly orgId: string,
  ) {}

  /** The same repository inside a transaction. */
  with(trx: Transaction<Database>): DirectoryRepository {
    return new DirectoryRepository(trx, this.orgId);
  }

  /** Ids of the organization's groups named exactly `name` (names need not be unique). */
  async groupIdsNamed(name: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('groups')
      .select('id')
      .where('org_id', '=', this.orgId)
      .where('name', '=', name)
      .execute();
    return rows.map((r) => r.id);
  }

  async listUsers(query: UserListQuery): Promise<{ items: User[]; total: number }> {
    let base = this.db.selectFrom('users').where('users.org_id', '=', this.orgId);
    if (query.mailbox === 'functional') base = base.where('users.mailbox', 'in', [...FUNCTIONAL_MAILBOXES]);
    else if (query.mailbox === 'unknown') base = base.where('users.mailbox', 'is', null);
    else if (query.mailbox === 'people')
      base = base.where((eb) =>
        eb.or([eb('users.mailbox', 'is', null), eb('users.mailbox', 'not in', [...FUNCTIONAL_MAILBOXES])]),
      );
    else if (query.mailbox !== undefined) base = base.where('users.mailbox', '=', query.mailbox);
    const pattern = likePattern(query.search);
    if (pattern) {
      base = base.where((eb) =>
        eb.or([
          like('users.email', pattern),
          like('users.display_name', pattern),
          eb.exists(
            eb
              .selectFrom('addresses')
              .select('addresses.address')
              .where('addresses.org_id', '=', this.orgId)
              .whereRef('addresses.owner_id', '=', 'users.id')
              .where(like('addresses.address', pattern)),
          ),
        ]),
      );
    }
    const [{ total }] = (await base.select((eb) => eb.fn.countAll<number>().as('total')).execute()) as [
      { total: number | string },
    ];
    const rows = await base
      .selectAll('users')
      .orderBy('users.email')
      .limit(query.limit)
      .offset(query.offset)
      .execute();
    return { items: await this.#withAliases(rows), total: Number(total) };
  }

  /** Every user and group of the organization, with aliases and members: the sync planner's input. */
  async loadAll(): Promise<{ users: User[]; groups: Group[] }> {
    const [userRows, groupRows, aliasRows, memberRows] = await Promise.all([
      this.db.selectFrom('users').selectAll().where('org_id', '=', this.orgId).execute(),
      this.db.selectFrom('groups').selectAll().where('org_id', '=', this.orgId).execute(),
      this.db
        .selectFrom('addresses')
        .select(['owner_id', 'address'])
        .where('org_id', '=', this.orgId)
        .where('is_primary', '=', false)
        .execute(),
      this.db
        .selectFrom('group_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('org_id', '=', this.orgId)
        .execute(),
    ]);
    const aliases = groupBy(
      aliasRows,
      (r) => r.owner_id,
      (r) => r.address,
    );
    const members = groupBy(
      memberRows,
      (r) => r.group_id,
      (r): MemberRef => ({ type: r.member_type, id: r.member_id }),
    );
    return {
      users: userRows.map((r) => toUser(r, aliases.get(r.id) ?? [])),
      groups: groupRows.map((r) => toGroup(r, aliases.get(r.id) ?? [], members.get(r.id) ?? [])),
    };
  }

  /**
   * The rows a focused plan reads (src/sync/focus.ts, directoryKeys), with aliases and members:
   * users and groups by Entra id, the holders of `addresses`, and the current members of the
   * groups loaded by Entra id. A few IN-list queries per kind, chunked under both databases'
   * parameter limits; every other row is left unread. Users read only as members (listed by a
   * focused group, in Entra or here) come without their aliases: a plan refers to a member by
   * id, address and Entra id, and any user holding an address a focused object claims is read
   * whole, as a holder.
   */
  async loadFocused(keys: {
    userExternalIds: readonly string[];
    memberExternalIds: readonly string[];
    groupExternalIds: readonly string[];
    partialGroupExternalIds: readonly string[];
    deltaMemberExternalIds: readonly string[];
    addresses: readonly string[];
  }): Promise<{ users: User[]; groups: Group[]; memberTotals: Map<string, number> }> {
    const users = new Map<string, Database['users']>();
    const groups = new Map<string, Database['groups']>();
    const members = new Map<string, MemberRef[]>();
    const byKey = async <T extends 'users' | 'groups'>(
      table: T,
      column: 'external_id' | 'id',
      values: readonly string[],
      into: Map<string, Database[T]>,
    ) => {
      for (const part of chunks([...new Set(values)], IN_CHUNK)) {
        const rows = (await this.db
          .selectFrom(table as 'users')
          .selectAll()
          .where('org_id', '=', this.orgId)
          .where(column, 'in', part)
          .execute()) as unknown as Database[T][];
        for (const r of rows) into.set(r.id, r);
      }
    };
    const membersOf = (groupIds: string[]) => this.#membershipsBy('group_id', groupIds, members);

    await byKey('users', 'external_id', keys.userExternalIds, users);
    await byKey('groups', 'external_id', keys.groupExternalIds, groups);
    const partial = new Map<string, Database['groups']>();
    await byKey('groups', 'external_id', keys.partialGroupExternalIds, partial);
    // The focused objects, by directory id: what a group read in part holds of its members.
    const focused = [...users.keys(), ...groups.keys(), ...partial.keys()];
    for (const [id, row] of partial) groups.set(id, row);
    // Judged or holders, read whole; the rest only as members.
    const whole = new Set(users.keys());
    await byKey('users', 'external_id', keys.memberExternalIds, users);
    const delta = new Map<string, Database['users']>();
    await byKey('users', 'external_id', keys.deltaMemberExternalIds, delta);
    for (const [id, row] of delta) {
      users.set(id, row);
      focused.push(id);
    }
    const wantedUsers = new Set<string>();
    const wantedGroups = new Set<string>();
    for (const part of chunks([...new Set(keys.addresses)], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('addresses')
        .select(['owner_type', 'owner_id'])
        .where('org_id', '=', this.orgId)
        .where('address', 'in', part)
        .execute();
      for (const r of rows) {
        (r.owner_type === 'user' ? wantedUsers : wantedGroups).add(r.owner_id);
        if (r.owner_type === 'user') whole.add(r.owner_id);
      }
    }
    await membersOf([...groups.keys()].filter((id) => !partial.has(id)));
    const memberTotals = await this.#partMembers(partial, focused, members);
    for (const list of members.values()) {
      for (const m of list) (m.type === 'user' ? wantedUsers : wantedGroups).add(m.id);
    }
    await byKey(
      'users',
      'id',
      [...wantedUsers].filter((id) => !users.has(id)),
      users,
    );
    const extraGroups = [...wantedGroups].filter((id) => !groups.has(id));
    await byKey('groups', 'id', extraGroups, groups);
    await membersOf(extraGroups.filter((id) => groups.has(id)));
    const aliases = await this.#aliasesOf([...whole, ...groups.keys()], IN_CHUNK);
    return {
      users: [...users.values()].map((r) => toUser(r, aliases.get(r.id) ?? [])),
      groups: [...groups.values()].map((r) => toGroup(r, aliases.get(r.id) ?? [], members.get(r.id) ?? [])),
      memberTotals,
    };
  }

  /**
   * Of the groups in `partial`, the members among `focused` (directory ids) into `members`, and
   * how many members each has in all (the map returned).
   */
  async #partMembers(
    partial: ReadonlyMap<string, unknown>,
    focused: readonly string[],
    members: Map<string, MemberRef[]>,
  ): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    if (partial.size === 0) return totals;
    for (const part of chunks([...partial.keys()], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('group_members')
        .select(['group_id', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('org_id', '=', this.orgId)
        .where('group_id', 'in', part)
        .groupBy('group_id')
        .execute();
      for (const r of rows) totals.set(r.group_id, Number(r.n));
    }
    for (const id of partial.keys()) if (!totals.has(id)) totals.set(id, 0);
    await this.#membershipsBy('member_id', [...new Set(focused)], members, (group) => partial.has(group));
    return totals;
  }

  /** The membership rows whose group (or member) is one of `ids`, by group into `into`; `keep` filters by group. */
  async #membershipsBy(
    column: 'group_id' | 'member_id',
    ids: readonly string[],
    into: Map<string, MemberRef[]>,
    keep: (groupId: string) => boolean = () => true,
  ): Promise<void> {
    for (const part of chunks([...ids], IN_CHUNK)) {
      const rows = await this.db
        .selectFrom('group_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('org_id', '=', this.orgId)
        .where(column, 'in', part)
        .execute();
      for (const r of rows) {
        if (!keep(r.group_id)) continue;
        const list = into.get(r.group_id) ?? [];
        list.push({ type: r.member_type, id: r.member_id });
        into.set(r.group_id, list);
      }
    }
  }

  /** Entra ids of the groups whose members include one of `members` (hand-made groups have none). */
  async groupsListing(members: readonly MemberRef[]): Promise<string[]> {
    const out = new Set<string>();
    for (const type of ['user', 'group'] as const) {
      const ids = [...new Set(members.filter((m) => m.type === type).map((m) => m.id))];
      for (const part of chunks(ids, IN_CHUNK)) {
        const rows = await this.db
          .selectFrom('group_members')
          .innerJoin('groups', (j) =>
            j
              .onRef('groups.org_id', '=', 'group_members.org_id')
              .onRef('groups.id', '=', 'group_members.group_id'),
          )
          .select('groups.external_id')
          .where('group_members.org_id', '=', this.orgId)
          .where('group_members.member_type', '=', type)
          .where('group_members.member_id', 'in', part)
          .execute();
        for (const r of rows) if (r.external_id !== null) out.add(r.external_id);
      }
    }
    return [...out];
  }

  /**
   * A cheap summary that changes whenever the organization's users or groups do: their counts and
   * newest updatedAt (every write of a user or group, and every membership change, bumps it).
   */
  async fingerprint(): Promise<string> {
    const [users, groups] = await Promise.all(
      (['users', 'groups'] as const).map((table) =>
        this.db
          .selectFrom(table)
          .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('updated_at').as('newest')])
          .where('org_id', '=', this.orgId)
          .executeTakeFirstOrThrow(),
      ),
    );
    return JSON.stringify([Number(users!.n), users!.newest, Number(groups!.n), groups!.newest]);
  }

  async getUser(id: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? (await this.#withAliases([row]))[0] : undefined;
  }

  /** The user whose primary address or alias is `address`. */
  async findUserByAddress(address: string): Promise<User | undefined> {
    const hit = await this.db
      .selectFrom('addresses')
      .select('owner_id')
      .where('org_id', '=', this.orgId)
      .where('address', '=', address)
      .where('owner_type', '=', 'user')
      .executeTakeFirst();
    return hit ? this.getUser(hit.owner_id) : undefined;
  }

  async insertUser(user: User, passwordHash: string | null = null): Promise<void> {
    await this.db
      .insertInto('users')
      .values({ ...fromUser(user), password_hash: passwordHash })
      .execute();
    await this.#insertAddresses('user', user.id, user.email, user.aliases);
  }

  /** Replaces a user's fields and addresses with `user`'s. */
  async updateUser(user: User): Promise<void> {
    const { org_id: _org, id: _id, created_at: _created, ...fields } = fromUser(user);
    await this.db
      .updateTable('users')
      .set(fields)
      .where('org_id', '=', this.orgId)
      .where('id', '=', user.id)
      .execute();
    await this.#replaceAddresses('user', user.id, user.email, user.aliases);
  }

  async setPassword(userId: string, passwordHash: string | null): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ password_hash: passwordHash })
      .where('org_id', '=', this.orgId)
      .where('id', '=', userId)
      .execute();
  }

  async deleteUser(id: string): Promise<void> {
    await this.#deleteMemberships('user', id);
    await this.#deleteAddresses(id);
    await this.db.deleteFrom('users').where('org_id', '=', this.orgId).where('id', '=', id).execute();
  }

  async listGroups(query: ListQuery): Promise<{ items: Group[]; total: number }> {
    let base = this.db.selectFrom('groups').where('groups.org_id', '=', this.orgId);
    const pattern = likePattern(query.search);
    if (pattern) {
      base = base.where((eb) => eb.or([like('groups.name', pattern), like('groups.email', pattern)]));
    }
    const [{ total }] = (await base.select((eb) => eb.fn.countAll<number>().as('total')).execute()) as [
      { total: number | string },
    ];
    const rows = await base
      .selectAll('groups')
      .orderBy('groups.name')
      .orderBy('groups.id')
      .limit(query.limit)
      .offset(query.offset)
      .execute();
    return { items: await this.#groupsWithDetails(rows), total: Number(total) };
  }

  async getGroup(id: string): Promise<Group | undefined> {
    const row = await this.db
      .selectFrom('groups')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? (await this.#groupsWithDetails([row]))[0] : undefined;
  }

  async insertGroup(group: Group): Promise<void> {
    await this.db.insertInto('groups').values(fromGroup(group)).execute();
    if (group.email) await this.#insertAddresses('group', group.id, group.email, group.aliases);
    await this.#insertMembers(group.id, group.members);
  }

  /** Replaces a group's fields, addresses and members with `group`'s. */
  async updateGroup(group: Group): Promise<void> {
    const { org_id: _org, id: _id, created_at: _created, ...fields } = fromGroup(group);
    await this.db
      .updateTable('groups')
      .set(fields)
      .where('org_id', '=', this.orgId)
      .where('id', '=', group.id)
      .execute();
    await this.#replaceAddresses('group', group.id, group.email, group.aliases);
    await this.db
      .deleteFrom('group_members')
      .where('org_id', '=', this.orgId)
      .where('group_id', '=', group.id)
      .execute();
    await this.#insertMembers(group.id, group.members);
  }

  async deleteGroup(id: string): Promise<void> {
    await this.db
      .deleteFrom('group_members')
      .where('org_id', '=', this.orgId)
      .where('group_id', '=', id)
      .execute();
    await this.#deleteMemberships('group', id);
    await this.#deleteAddresses(id);
    await this.db.deleteFrom('groups').where('org_id', '=', this.orgId).where('id', '=', id).execute();
  }

  /** Users and groups (of this organization) by id: to show members by address or name. */
  async describeMembers(
    refs: MemberRef[],
  ): Promise<Map<string, { email: string | null; name: string | null; type: 'user' | 'group' }>> {
    const userIds = refs.filter((r) => r.type === 'user').map((r) => r.id);
    const groupIds = refs.filter((r) => r.type === 'group').map((r) => r.id);
    const out = new Map<string, { email: string | null; name: string | null; type: 'user' | 'group' }>();
    for (const ids of chunks(userIds, 500)) {
      const rows = await this.db
        .selectFrom('users')
        .select(['id', 'email', 'display_name'])
        .where('org_id', '=', this.orgId)
        .where('id', 'in', ids)
        .execute();
      for (const r of rows) out.set(r.id, { email: r.email, name: r.display_name, type: 'user' });
    }
    for (const ids of chunks(groupIds, 500)) {
      const rows = await this.db
        .selectFrom('groups')
        .select(['id', 'email', 'name'])
        .where('org_id', '=', this.orgId)
        .where('id', 'in', ids)
        .execute();
      for (const r of rows) out.set(r.id, { email: r.email, name: r.name, type: 'group' });
    }
    return out;
  }

  /** Who owns these addresses, in any organization (addresses are unique service-wide). */
  async addressOwners(addresses: readonly string[]): Promise<AddressOwner[]> {
    const owners: AddressOwner[] = [];
    for (const part of chunks([...addresses], 500)) {
      const rows = await this.db.selectFrom('addresses').selectAll().where('address', 'in', part).execute();
      for (const r of rows) {
        owners.push({
          address: r.address,
          orgId: r.org_id,
          ownerType: r.owner_type,
          ownerId: r.owner_id,
          isPrimary: r.is_primary,
        });
      }
    }
    return owners;
  }

  /** Number of addresses of this organization in `domain`. */
  async countAddressesInDomain(domain: string): Promise<number> {
    const row = await this.db
      .selectFrom('addresses')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', this.orgId)
      .where(like('address', `%@${escapeLike(domain)}`))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async #withAliases(rows: Database['users'][]): Promise<User[]> {
    const aliases = await this.#aliasesOf(rows.map((r) => r.id));
    return rows.map((r) => toUser(r, aliases.get(r.id) ?? []));
  }

  async #groupsWithDetails(rows: Database['groups'][]): Promise<Group[]> {
    const ids = rows.map((r) => r.id);
    const aliases = await this.#aliasesOf(ids);
    const members = new Map<string, MemberRef[]>();
    for (const part of chunks(ids, 500)) {
      const memberRows = await this.db
        .selectFrom('group_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('org_id', '=', this.orgId)
        .where('group_id', 'in', part)
        .execute();
      for (const r of memberRows) {
        const list = members.get(r.group_id) ?? [];
        list.push({ type: r.member_type, id: r.member_id });
        members.set(r.group_id, list);
      }
    }
    return rows.map((r) => toGroup(r, aliases.get(r.id) ?? [], members.get(r.id) ?? []));
  }

  async #aliasesOf(ownerIds: string[], size = 500): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const part of chunks(ownerIds, size)) {
      const rows = await this.db
        .selectFrom('addresses')
        .select(['owner_id', 'address'])
        .where('org_id', '=', this.orgId)
        .where('owner_id', 'in', part)
        .where('is_primary', '=', false)
        .execute();
      for (const [k, v] of groupBy(
        rows,
        (r) => r.owner_id,
        (r) => r.address,
      ))
        out.set(k, v);
    }
    return out;
  }

  async #insertAddresses(
    ownerType: 'user' | 'group',
    ownerId: string,
    primary: string | null,
    aliases: string[],
  ): Promise<void> {
    const rows = [
      ...(primary ? [{ address: primary, is_primary: true }] : []),
      ...aliases.map((address) => ({ address, is_primary: false })),
    ].map((r) => ({ ...r, org_id: this.orgId, owner_type: ownerType, owner_id: ownerId }));
    if (rows.length) await this.db.insertInto('addresses').values(rows).execute();
  }

  async #replaceAddresses(
    ownerType: 'user' | 'group',
    ownerId: string,
    primary: string | null,
    aliases: string[],
  ): Promise<void> {
    await this.#deleteAddresses(ownerId);
    await this.#insertAddresses(ownerType, ownerId, primary, aliases);
  }

  async #deleteAddresses(ownerId: string): Promise<void> {
    await this.db
      .deleteFrom('addresses')
      .where('org_id', '=', this.orgId)
      .where('owner_id', '=', ownerId)
      .execute();
  }

  async #deleteMemberships(memberType: 'user' | 'group', memberId: string): Promise<void> {
    await this.db
      .deleteFrom('group_members')
      .where('org_id', '=', this.orgId)
      .where('member_type', '=', memberType)
      .where('member_id', '=', memberId)
      .execute();
  }

  async #insertMembers(groupId: string, members: MemberRef[]): Promise<void> {
    const rows = members.map((m) => ({
      org_id: this.orgId,
      group_id: groupId,
      member_type: m.type,
      member_id: m.id,
    }));
    for (const part of chunks(rows, 500)) await this.db.insertInto('group_members').values(part).execute();
  }
}

function toUser(r: Database['users'], aliases: string[]): User {
  return {
    id: r.id,
    orgId: r.org_id,
    email: r.email,
    aliases: [...aliases].sort(),
    firstName: r.first_name,
    lastName: r.last_name,
    displayName: r.display_name,
    role: r.role as Role,
    status: r.status as UserStatus,
    mailbox: r.mailbox as MailboxKind | null,
    source: r.source as Source,
    externalId: r.external_id,
    exempt: r.exempt,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromUser(u: User): Omit<Database['users'], 'password_hash'> {
  return {
    org_id: u.orgId,
    id: u.id,
    email: u.email,
    first_name: u.firstName,
    last_name: u.lastName,
    display_name: u.displayName,
    role: u.role,
    status: u.status,
    mailbox: u.mailbox,
    source: u.source,
    external_id: u.externalId,
    exempt: u.exempt,
    created_at: u.createdAt,
    updated_at: u.updatedAt,
  };
}

function toGroup(r: Database['groups'], aliases: string[], members: MemberRef[]): Group {
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    kind: r.kind as GroupKind,
    email: r.email,
    aliases: [...aliases].sort(),
    source: r.source as Source,
    externalId: r.external_id,
    exempt: r.exempt,
    members,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function fromGroup(g: Group): Database['groups'] {
  return {
    org_id: g.orgId,
    id: g.id,
    name: g.name,
    kind: g.kind,
    email: g.email,
    source: g.source,
    external_id: g.externalId,
    exempt: g.exempt,
    created_at: g.createdAt,
    updated_at: g.updatedAt,
  };
}

function groupBy<T, V>(items: T[], key: (t: T) => string, value: (t: T) => V): Map<string, V[]> {
  const out = new Map<string, V[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(value(item));
    else out.set(k, [value(item)]);
  }
  return out;
}

/**
 * Values per `IN (…)` list in loadFocused: under SQLite's bound-parameter limit (32,766) and
 * PostgreSQL's (65,535) with room to spare, yet few round trips for a focus of thousands.
 */
const IN_CHUNK = 5000;

/** Splits a list so `IN (…)` lists stay under SQLite's bound-parameter limit. */
export function chunks<T>(items: T[], size: number): T[][] {
  return [...batchesOf(items, size)];
}

/** The items in arrays of `size` (the last one shorter), one held at a time: rows made as they are written. */
export function* batchesOf<T>(items: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = [];
  for (const item of items) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Case-insensitive LIKE with backslash escapes, written the same on both dialects. */
function like(column: string, pattern: string) {
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** A case-insensitive substring pattern, or undefined for no search. */
function likePattern(search: string | undefined): string | undefined {
  const s = search?.trim().toLowerCase();
  return s ? `%${escapeLike(s)}%` : undefined;
}
