import { type Kysely, sql, type Transaction } from 'kysely';
import {
  byExternalId,
  claimKeys,
  type SourceGroup,
  type SourceSnapshot,
  type SourceUser,
} from '../sync/source.js';
import type { GroupRecord, SourceChanges, SourceMembership } from '../sync/source-changes.js';
import type { DialectInfo } from './dialect.js';
import { batchesOf, chunks } from './directory-repository.js';
import type { Database } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** IN lists stay under both dialects' bound-parameter limits (SQLite: 32,766). */
const KEYS_PER_STATEMENT = 5_000;

/**
 * The source mirror of one organization: the tenant's users, groups and direct memberships as
 * the last apply left them, one row per object keyed by Entra id (0010_source_tables). Written
 * only in an apply's transaction, by the row changes the apply's delta made (SourceChanges).
 */
export class SourceRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: DialectInfo,
    readonly orgId: string,
  ) {}

  with(trx: Transaction<Database>): SourceRepository {
    return new SourceRepository(trx, this.dialect, this.orgId);
  }

  /** The whole mirror, users and groups ordered by Entra id, member lists sorted (as the connector gives them). */
  async load(): Promise<SourceSnapshot> {
    const [userRows, groupRows, memberRows] = await Promise.all([
      this.db
        .selectFrom('source_users')
        .select(['external_id', 'record'])
        .where('org_id', '=', this.orgId)
        .execute(),
      this.db
        .selectFrom('source_groups')
        .select(['external_id', 'record'])
        .where('org_id', '=', this.orgId)
        .execute(),
      this.db
        .selectFrom('source_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('org_id', '=', this.orgId)
        .execute(),
    ]);
    // Sorted here, not by the database: PostgreSQL's collation may order ids unlike JavaScript.
    return { users: usersOf(userRows), groups: groupsOf(groupRows, memberRows) };
  }

  /** The mirror's records of these users (ids it does not hold are left out), in Entra id order. */
  async users(ids: readonly string[]): Promise<SourceUser[]> {
    return usersOf(await this.byKeys('source_users', ids));
  }

  /** The mirror's records of these groups with their member lists (sorted), in Entra id order. */
  async groups(ids: readonly string[]): Promise<SourceGroup[]> {
    const rows = await this.byKeys('source_groups', ids);
    const memberRows: MemberRow[] = [];
    for (const part of chunks(
      rows.map((r) => r.external_id),
      KEYS_PER_STATEMENT,
    )) {
      // One by one: 5,000 groups may have hundreds of thousands of members, too many arguments for push(...rows).
      for (const m of await this.db
        .selectFrom('source_members')
        .select(['group_id', 'member_type', 'member_id'])
        .where('org_id', '=', this.orgId)
        .where('group_id', 'in', part)
        .execute())
        memberRows.push(m);
    }
    return groupsOf(rows, memberRows);
  }

  /** Which objects claim these address keys (claimKeys): per key, the claimants' kind and Entra id. */
  async claimants(
    keys: readonly string[],
  ): Promise<{ key: string; type: 'user' | 'group'; externalId: string }[]> {
    const out: { key: string; type: 'user' | 'group'; externalId: string }[] = [];
    for (const part of chunks([...keys], KEYS_PER_STATEMENT)) {
      const rows = await this.db
        .selectFrom('source_claims')
        .select(['claim_key', 'object_type', 'external_id'])
        .where('org_id', '=', this.orgId)
        .where('claim_key', 'in', part)
        .execute();
      for (const r of rows) out.push({ key: r.claim_key, type: r.object_type, externalId: r.external_id });
    }
    return out;
  }

  /** The groups listing these objects as direct members: per member, the group's Entra id. */
  async listers(
    type: 'user' | 'group',
    ids: readonly string[],
  ): Promise<{ memberId: string; groupId: string }[]> {
    const out: { memberId: string; groupId: string }[] = [];
    for (const part of chunks([...ids], KEYS_PER_STATEMENT)) {
      const rows = await this.db
        .selectFrom('source_members')
        .select(['member_id', 'group_id'])
        .where('org_id', '=', this.orgId)
        .where('member_type', '=', type)
        .where('member_id', 'in', part)
        .execute();
      for (const r of rows) out.push({ memberId: r.member_id, groupId: r.group_id });
    }
    return out;
  }

  private async byKeys(table: 'source_users' | 'source_groups', ids: readonly string[]) {
    const rows: { external_id: string; record: string }[] = [];
    for (const part of chunks([...ids], KEYS_PER_STATEMENT)) {
      for (const r of await this.db
        .selectFrom(table)
        .select(['external_id', 'record'])
        .where('org_id', '=', this.orgId)
        .where('external_id', 'in', part)
        .execute())
        rows.push(r);
    }
    return rows;
  }

  /** How many users and groups the mirror holds. */
  async counts(): Promise<{ users: number; groups: number }> {
    const count = async (table: 'source_users' | 'source_groups') => {
      const row = await this.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('org_id', '=', this.orgId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return { users: await count('source_users'), groups: await count('source_groups') };
  }

  /** Writes what an apply changed: records replaced, objects and memberships removed and added. */
  async write(changes: SourceChanges): Promise<void> {
    // A changed record is replaced: deleted with the removed ones (and their claims), then
    // inserted. A new one has no row to delete (a first sync's 100,000 users: none).
    await this.deleteObjects('source_users', 'user', [...changes.removedUsers, ...changes.replacedUsers]);
    await this.deleteObjects('source_groups', 'group', [...changes.removedGroups, ...changes.replacedGroups]);
    for (const part of chunks(changes.removedGroups, KEYS_PER_STATEMENT)) {
      await this.db
        .deleteFrom('source_members')
        .where('org_id', '=', this.orgId)
        .where('group_id', 'in', part)
        .execute();
    }
    await this.deleteMemberships(changes.removedMembers);
    // The rows are made a statement's worth at a time: a first sync's would be the tenant again.
    const org = this.orgId;
    const recordRows = function* (objects: readonly (SourceUser | GroupRecord)[]) {
      for (const { externalId, ...record } of objects) yield [org, externalId, JSON.stringify(record)];
    };
    await this.insert('source_users', ['org_id', 'external_id', 'record'], recordRows(changes.users));
    await this.insert('source_groups', ['org_id', 'external_id', 'record'], recordRows(changes.groups));
    const claimRows = function* () {
      for (const [type, objects] of [
        ['user', changes.users],
        ['group', changes.groups],
      ] as const)
        for (const o of objects) for (const key of claimKeys(o)) yield [org, key, type, o.externalId];
    };
    await this.insert('source_claims', ['org_id', 'claim_key', 'object_type', 'external_id'], claimRows());
    const memberRows = function* () {
      for (const m of changes.addedMembers) yield [org, m.groupId, m.type, m.memberId];
    };
    await this.insert('source_members', ['org_id', 'group_id', 'member_type', 'member_id'], memberRows());
  }

  private async deleteObjects(
    table: 'source_users' | 'source_groups',
    type: 'user' | 'group',
    ids: string[],
  ): Promise<void> {
    for (const part of chunks(ids, KEYS_PER_STATEMENT)) {
      await this.db
        .deleteFrom(table)
        .where('org_id', '=', this.orgId)
        .where('external_id', 'in', part)
        .execute();
      await this.db
        .deleteFrom('source_claims')
        .where('org_id', '=', this.orgId)
        .where('object_type', '=', type)
        .where('external_id', 'in', part)
        .execute();
    }
  }

  /**
   * Removed memberships, a batch a statement (as the directory's writer removes members): a
   * statement per group cost a round trip each, 2,400 of them at 1 % on PostgreSQL.
   */
  private async deleteMemberships(removed: SourceMembership[]): Promise<void> {
    const columns = ['group_id', 'member_type', 'member_id'] as const;
    const names = sql.join(columns.map((c) => sql.ref(c)));
    const rows = removed.map((m) => [m.groupId, m.type, m.memberId]);
    for (const part of chunks(rows, this.dialect.bulk.maxRows(columns.length))) {
      const values = this.dialect.bulk.rows(
        columns.map(() => 'text' as const),
        part,
      );
      await sql`with v(${names}) as (${values}) delete from source_members where org_id = ${this.orgId} and (group_id, member_type, member_id) in (select group_id, member_type, member_id from v)`.execute(
        this.db,
      );
    }
  }

  /**
   * Rows in bulk, as the dialect carries them best (a first sync writes the whole tenant: COPY
   * on PostgreSQL, multi-row values on SQLite), taken from `rows` a statement at a time. Every
   * column of these tables is text.
   */
  private async insert<T extends 'source_users' | 'source_groups' | 'source_members' | 'source_claims'>(
    table: T,
    columns: readonly (keyof Database[T] & string)[],
    rows: Iterable<readonly string[]>,
  ): Promise<void> {
    const kinds = columns.map(() => 'text' as const);
    for (const batch of batchesOf(rows, this.dialect.bulk.maxRows(columns.length))) {
      await this.dialect.bulk.insert(this.db, table, columns, kinds, batch);
    }
  }
}

type ObjectRow = { external_id: string; record: string };
type MemberRow = { group_id: string; member_type: 'user' | 'group'; member_id: string };

/** Users from their rows, in Entra id order. */
function usersOf(rows: readonly ObjectRow[]): SourceUser[] {
  return rows
    .map((r) => ({ externalId: r.external_id, ...JSON.parse(r.record) }) as SourceUser)
    .sort(byExternalId);
}

/** Groups from their rows and their membership rows, in Entra id order, member lists sorted (as the connector gives them). */
function groupsOf(rows: readonly ObjectRow[], memberRows: readonly MemberRow[]): SourceGroup[] {
  const members = new Map<string, { users: string[]; groups: string[] }>();
  for (const m of memberRows) {
    let lists = members.get(m.group_id);
    if (!lists) {
      lists = { users: [], groups: [] };
      members.set(m.group_id, lists);
    }
    (m.member_type === 'user' ? lists.users : lists.groups).push(m.member_id);
  }
  return rows
    .map((r) => {
      const lists = members.get(r.external_id);
      return {
        externalId: r.external_id,
        ...(JSON.parse(r.record) as Omit<GroupRecord, 'externalId'>),
        memberUserIds: lists ? lists.users.sort(byCodeUnit) : [],
        memberGroupIds: lists ? lists.groups.sort(byCodeUnit) : [],
      };
    })
    .sort(byExternalId);
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
