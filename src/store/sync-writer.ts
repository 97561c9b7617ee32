import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { Group, MemberRef, User } from '../directory/model.js';
import type {
  AddGroupChange,
  AddUserChange,
  PlannedMember,
  UpdateGroupChange,
  UpdateUserChange,
} from '../sync/changes.js';
import type { ApplyStep } from '../sync/select.js';
import type { BulkRows, ColumnKind, DialectInfo } from './dialect.js';
import { chunks } from './directory-repository.js';
import type { Database } from './schema.js';

/** What the writer needs besides the transaction: the organization, ids and time. */
export interface WriterContext {
  /** The store's dialect: how rows are carried in bulk. */
  dialect: DialectInfo;
  orgId: string;
  newId(): string;
  now: string;
  /** The directory as loaded for the re-check, before any write of this run. */
  users: Map<string, User>;
  groups: Map<string, Group>;
}

/**
 * Applies the selected steps of a plan inside the caller's transaction, in the order given
 * (see src/sync/select.ts for why that order). Rows are written in bulk — many rows a statement,
 * as the dialect carries them best (`DialectInfo.bulk`: multi-row `values` on SQLite, `unnest`
 * of one array per column on PostgreSQL) — and produced a batch at a time, so the tenant is never
 * held a second time as rows: a first sync of 100,000 users is a few dozen statements, and a
 * change of 2,000 groups a handful instead of one each. Every change it gets has already been
 * re-checked against the directory, so a failing statement means the database refused (a race or
 * a bug): the caller's transaction then rolls back the whole run.
 */
export async function applySteps(
  trx: Transaction<Database>,
  steps: ApplyStep[],
  ctx: WriterContext,
): Promise<void> {
  const w: Writer = { trx, ctx, bulk: ctx.dialect.bulk };
  // Entra id → directory id for everything that exists, including objects created by this run.
  const userIdByExt = new Map<string, string>();
  const groupIdByExt = new Map<string, string>();
  for (const u of ctx.users.values()) if (u.externalId) userIdByExt.set(u.externalId, u.id);
  for (const g of ctx.groups.values()) if (g.externalId) groupIdByExt.set(g.externalId, g.id);

  for (const step of steps) {
    switch (step.step) {
      case 'create_groups':
        await createGroups(w, step.changes, groupIdByExt);
        break;
      case 'add_users':
        await addUsers(w, step.changes, userIdByExt);
        break;
      case 'update_users':
        await updateUsers(w, step.changes);
        break;
      case 'update_groups':
        await updateGroups(w, step.changes);
        break;
      case 'set_memberships':
        await setMemberships(w, step.changes, userIdByExt, groupIdByExt);
        break;
      case 'remove_groups':
        await removeObjects(
          trx,
          ctx.orgId,
          'group',
          step.changes.map((c) => c.groupId),
        );
        break;
      case 'remove_users':
        await removeObjects(
          trx,
          ctx.orgId,
          'user',
          step.changes.map((c) => c.userId),
        );
        break;
    }
  }
}

interface Writer {
  trx: Transaction<Database>;
  ctx: WriterContext;
  bulk: BulkRows;
}

/** The columns of a bulk statement and what each holds, in the order the rows give them. */
type Columns<R> = { readonly [K in keyof R]-?: ColumnKind };

const USER_COLUMNS = {
  org_id: 'text',
  id: 'text',
  email: 'text',
  first_name: 'text',
  last_name: 'text',
  display_name: 'text',
  role: 'text',
  status: 'text',
  mailbox: 'text',
  source: 'text',
  external_id: 'text',
  exempt: 'boolean',
  password_hash: 'text',
  created_at: 'timestamp',
  updated_at: 'timestamp',
} as const satisfies Columns<Database['users']>;

const GROUP_COLUMNS = {
  org_id: 'text',
  id: 'text',
  name: 'text',
  kind: 'text',
  email: 'text',
  source: 'text',
  external_id: 'text',
  exempt: 'boolean',
  created_at: 'timestamp',
  updated_at: 'timestamp',
} as const satisfies Columns<Database['groups']>;

const ADDRESS_COLUMNS = {
  org_id: 'text',
  address: 'text',
  owner_type: 'text',
  owner_id: 'text',
  is_primary: 'boolean',
} as const satisfies Columns<Database['addresses']>;

const MEMBER_COLUMNS = {
  org_id: 'text',
  group_id: 'text',
  member_type: 'text',
  member_id: 'text',
} as const satisfies Columns<Database['group_members']>;

/** What an update writes to a user: every field sync owns (`id` picks the row). */
type UserUpdate = Pick<
  Database['users'],
  | 'id'
  | 'email'
  | 'first_name'
  | 'last_name'
  | 'display_name'
  | 'status'
  | 'mailbox'
  | 'source'
  | 'external_id'
  | 'updated_at'
>;
const USER_UPDATE_COLUMNS = {
  id: 'text',
  email: 'text',
  first_name: 'text',
  last_name: 'text',
  display_name: 'text',
  status: 'text',
  mailbox: 'text',
  source: 'text',
  external_id: 'text',
  updated_at: 'timestamp',
} as const satisfies Columns<UserUpdate>;

type GroupUpdate = Pick<Database['groups'], 'id' | 'name' | 'kind' | 'email' | 'updated_at'>;
const GROUP_UPDATE_COLUMNS = {
  id: 'text',
  name: 'text',
  kind: 'text',
  email: 'text',
  updated_at: 'timestamp',
} as const satisfies Columns<GroupUpdate>;

type Key = { id: string };
const KEY_COLUMNS = { id: 'text' } as const satisfies Columns<Key>;

type MemberKey = Omit<Database['group_members'], 'org_id'>;
const MEMBER_KEY_COLUMNS = {
  group_id: 'text',
  member_type: 'text',
  member_id: 'text',
} as const satisfies Columns<MemberKey>;

/**
 * Rows gathered for one statement and written a batch at a time as they come: at most one
 * batch is held, whatever the number of rows. `write` gets a batch's values, a row each, in
 * the columns' order.
 */
class Batches<R extends object> {
  readonly #names: (keyof R & string)[];
  readonly #max: number;
  #rows: R[] = [];

  constructor(
    bulk: BulkRows,
    columns: Columns<R>,
    private readonly write: (values: unknown[][]) => Promise<unknown>,
  ) {
    this.#names = namesAndKinds(columns).names;
    this.#max = bulk.maxRows(this.#names.length);
  }

  async add(row: R): Promise<void> {
    this.#rows.push(row);
    if (this.#rows.length >= this.#max) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const batch = this.#rows;
    this.#rows = [];
    await this.write(batch.map((row) => this.#names.map((name) => row[name])));
  }
}

/** Batches each written by the statement `build` makes of the column list and the batch as the dialect's row source. */
function statements<R extends object>(
  w: Writer,
  columns: Columns<R>,
  build: (names: RawBuilder<unknown>, rows: RawBuilder<unknown>) => Promise<unknown>,
): Batches<R> {
  const { names, kinds } = namesAndKinds(columns);
  const list = sql.join(names.map((name) => sql.ref(name)));
  return new Batches(w.bulk, columns, (values) => build(list, w.bulk.rows(kinds, values)));
}

/** A statement's column names and what each holds, in the order its rows give them. */
function namesAndKinds<R>(columns: Columns<R>) {
  const names = Object.keys(columns) as (keyof R & string)[];
  return { names, kinds: names.map((name) => columns[name]) };
}

/** `insert into <table>` in batches; `skipExisting`: a row whose key is there already is left as it is. */
function inserts<T extends 'users' | 'groups' | 'addresses' | 'group_members'>(
  w: Writer,
  table: T,
  columns: Columns<Database[T]>,
  options: { skipExisting?: boolean } = {},
): Batches<Database[T]> {
  if (options.skipExisting) {
    return statements(w, columns, (names, rows) =>
      sql`insert into ${sql.table(table)} (${names}) ${rows} on conflict do nothing`.execute(w.trx),
    );
  }
  const { names, kinds } = namesAndKinds(columns);
  return new Batches(w.bulk, columns, (values) => w.bulk.insert(w.trx, table, names, kinds, values));
}

/** `update <table> … from v` in batches: each row's fields, the row picked by `id` in this organization. */
function updates<T extends 'users' | 'groups', R extends Key>(w: Writer, table: T, columns: Columns<R>) {
  const set = sql.join(
    Object.keys(columns)
      .filter((name) => name !== 'id')
      .map((name) => sql`${sql.ref(name)} = ${sql.ref(`v.${name}`)}`),
  );
  return statements<R>(w, columns, (names, rows) =>
    sql`with v(${names}) as (${rows}) update ${sql.table(table)} set ${set} from v where ${sql.ref(`${table}.org_id`)} = ${w.ctx.orgId} and ${sql.ref(`${table}.id`)} = v.id`.execute(
      w.trx,
    ),
  );
}

/** Deletes the addresses of many owners, a batch a statement. */
function addressDeletes(w: Writer): Batches<Key> {
  return statements<Key>(w, KEY_COLUMNS, (names, rows) =>
    sql`with v(${names}) as (${rows}) delete from addresses where org_id = ${w.ctx.orgId} and owner_id in (select id from v)`.execute(
      w.trx,
    ),
  );
}

async function createGroups(
  w: Writer,
  changes: AddGroupChange[],
  groupIdByExt: Map<string, string>,
): Promise<void> {
  const { ctx } = w;
  const groups = inserts(w, 'groups', GROUP_COLUMNS);
  const addresses = inserts(w, 'addresses', ADDRESS_COLUMNS);
  for (const change of changes) {
    const id = ctx.newId();
    groupIdByExt.set(change.externalId, id);
    const g = change.group;
    await groups.add({
      org_id: ctx.orgId,
      id,
      name: g.name,
      kind: g.kind,
      email: g.email,
      source: 'entra',
      external_id: change.externalId,
      exempt: false,
      created_at: ctx.now,
      updated_at: ctx.now,
    });
    for (const row of addressRows(ctx.orgId, 'group', id, g.email, g.aliases)) await addresses.add(row);
  }
  await groups.flush();
  await addresses.flush();
}

async function addUsers(
  w: Writer,
  changes: AddUserChange[],
  userIdByExt: Map<string, string>,
): Promise<void> {
  const { ctx } = w;
  const users = inserts(w, 'users', USER_COLUMNS);
  const addresses = inserts(w, 'addresses', ADDRESS_COLUMNS);
  for (const change of changes) {
    const id = ctx.newId();
    userIdByExt.set(change.externalId, id);
    const u = change.user;
    await users.add({
      org_id: ctx.orgId,
      id,
      email: u.email,
      first_name: u.firstName,
      last_name: u.lastName,
      display_name: u.displayName,
      role: u.role,
      status: u.status,
      mailbox: u.mailbox,
      source: 'entra',
      external_id: change.externalId,
      exempt: false,
      password_hash: null,
      created_at: ctx.now,
      updated_at: ctx.now,
    });
    for (const row of addressRows(ctx.orgId, 'user', id, u.email, u.aliases)) await addresses.add(row);
  }
  await users.flush();
  await addresses.flush();
}

/**
 * Changed users, a batch at a time: one `update … from v` for the rows, then — for those whose
 * address or aliases changed — one delete of their addresses and the insert of the new ones.
 * Within a batch all old addresses go before any new one is written, so an address moving
 * between two users of one batch is no conflict (plan() never moves one to an object that still
 * holds it in the first place, see src/sync/select.ts).
 */
async function updateUsers(w: Writer, changes: UpdateUserChange[]): Promise<void> {
  const { ctx } = w;
  const rows = updates<'users', UserUpdate>(w, 'users', USER_UPDATE_COLUMNS);
  for (const part of chunks(changes, w.bulk.maxRows(Object.keys(USER_UPDATE_COLUMNS).length))) {
    const readdress: { id: string; email: string | null; aliases: string[] }[] = [];
    for (const change of part) {
      const current = ctx.users.get(change.userId)!;
      const next = { ...current, ...change.after };
      await rows.add({
        id: current.id,
        email: next.email,
        first_name: next.firstName,
        last_name: next.lastName,
        display_name: next.displayName,
        status: next.status,
        mailbox: next.mailbox,
        source: next.source,
        external_id: next.externalId,
        updated_at: ctx.now,
      });
      if (change.after.email !== undefined || change.after.aliases !== undefined) {
        readdress.push({ id: current.id, email: next.email, aliases: next.aliases });
      }
    }
    await rows.flush();
    await replaceAddresses(w, 'user', readdress);
  }
}

/** Changed groups' fields (not members), as `updateUsers` does for users. */
async function updateGroups(w: Writer, changes: UpdateGroupChange[]): Promise<void> {
  const { ctx } = w;
  const rows = updates<'groups', GroupUpdate>(w, 'groups', GROUP_UPDATE_COLUMNS);
  for (const part of chunks(changes, w.bulk.maxRows(Object.keys(GROUP_UPDATE_COLUMNS).length))) {
    const readdress: { id: string; email: string | null; aliases: string[] }[] = [];
    for (const change of part) {
      const current = ctx.groups.get(change.groupId)!;
      const next = { ...current, ...change.after };
      await rows.add({
        id: current.id,
        name: next.name,
        kind: next.kind,
        email: next.email,
        updated_at: ctx.now,
      });
      if (change.after.email !== undefined || change.after.aliases !== undefined) {
        readdress.push({ id: current.id, email: next.email, aliases: next.email ? next.aliases : [] });
      }
    }
    await rows.flush();
    await replaceAddresses(w, 'group', readdress);
  }
}

/** Every address of these owners, deleted, then their new ones (the primary first), inserted. */
async function replaceAddresses(
  w: Writer,
  ownerType: 'user' | 'group',
  owners: { id: string; email: string | null; aliases: string[] }[],
): Promise<void> {
  if (owners.length === 0) return;
  const deletes = addressDeletes(w);
  for (const owner of owners) await deletes.add({ id: owner.id });
  await deletes.flush();
  const addresses = inserts(w, 'addresses', ADDRESS_COLUMNS);
  for (const owner of owners) {
    for (const row of addressRows(w.ctx.orgId, ownerType, owner.id, owner.email, owner.aliases)) {
      await addresses.add(row);
    }
  }
  await addresses.flush();
}

/**
 * Writes group memberships: all members of a new group; only the difference for an updated one
 * (re-writing every member of each changed group made a 1 % change cost as much as 5 %). All
 * removals go first, in batches, then all additions.
 */
async function setMemberships(
  w: Writer,
  changes: (AddGroupChange | UpdateGroupChange)[],
  userIdByExt: Map<string, string>,
  groupIdByExt: Map<string, string>,
): Promise<void> {
  const { ctx } = w;
  // A member whose add was unticked (or that vanished since the preview) does not exist: it is
  // left out now and planned again next time.
  const resolve = (m: PlannedMember) => resolveMember(m, ctx, userIdByExt, groupIdByExt);
  const groupIdOf = (change: AddGroupChange | UpdateGroupChange) =>
    change.kind === 'add_group' ? groupIdByExt.get(change.externalId) : change.groupId;

  const removals = statements<MemberKey>(w, MEMBER_KEY_COLUMNS, (names, rows) =>
    sql`with v(${names}) as (${rows}) delete from group_members where org_id = ${ctx.orgId} and (group_id, member_type, member_id) in (select group_id, member_type, member_id from v)`.execute(
      w.trx,
    ),
  );
  for (const change of changes) {
    const groupId = groupIdOf(change);
    if (!groupId || change.kind !== 'update_group') continue;
    for (const ref of change.membersRemoved.map(resolve)) {
      if (ref) await removals.add({ group_id: groupId, member_type: ref.type, member_id: ref.id });
    }
  }
  await removals.flush();

  // A member already there (listed twice, or re-added) is no error: the row stays as it is.
  const added = inserts(w, 'group_members', MEMBER_COLUMNS, { skipExisting: true });
  const touched = statements<Key>(w, KEY_COLUMNS, (names, rows) =>
    sql`with v(${names}) as (${rows}) update groups set updated_at = ${ctx.now} where org_id = ${ctx.orgId} and id in (select id from v)`.execute(
      w.trx,
    ),
  );
  for (const change of changes) {
    const groupId = groupIdOf(change);
    if (!groupId) continue;
    const toAdd = change.kind === 'add_group' ? change.group.members : change.membersAdded;
    for (const ref of toAdd.map(resolve)) {
      if (ref)
        await added.add({ org_id: ctx.orgId, group_id: groupId, member_type: ref.type, member_id: ref.id });
    }
  }
  await added.flush();
  for (const change of changes) {
    const groupId = groupIdOf(change);
    if (groupId) await touched.add({ id: groupId });
  }
  await touched.flush();
}

function resolveMember(
  m: PlannedMember,
  ctx: WriterContext,
  userIdByExt: Map<string, string>,
  groupIdByExt: Map<string, string>,
): MemberRef | null {
  if (m.id !== null) {
    const exists = m.type === 'user' ? ctx.users.has(m.id) : ctx.groups.has(m.id);
    return exists ? { type: m.type, id: m.id } : null;
  }
  if (m.externalId === null) return null;
  const id = (m.type === 'user' ? userIdByExt : groupIdByExt).get(m.externalId);
  return id ? { type: m.type, id } : null;
}

async function removeObjects(
  trx: Transaction<Database>,
  orgId: string,
  type: 'user' | 'group',
  ids: string[],
): Promise<void> {
  for (const part of chunks(ids, 500)) {
    await trx
      .deleteFrom('group_members')
      .where('org_id', '=', orgId)
      .where('member_type', '=', type)
      .where('member_id', 'in', part)
      .execute();
    if (type === 'group') {
      await trx
        .deleteFrom('group_members')
        .where('org_id', '=', orgId)
        .where('group_id', 'in', part)
        .execute();
    }
    await trx.deleteFrom('addresses').where('org_id', '=', orgId).where('owner_id', 'in', part).execute();
    await trx
      .deleteFrom(type === 'user' ? 'users' : 'groups')
      .where('org_id', '=', orgId)
      .where('id', 'in', part)
      .execute();
  }
}

function addressRows(
  orgId: string,
  ownerType: 'user' | 'group',
  ownerId: string,
  primary: string | null,
  aliases: string[],
): Database['addresses'][] {
  if (!primary) return [];
  return [
    { org_id: orgId, address: primary, owner_type: ownerType, owner_id: ownerId, is_primary: true },
    ...aliases.map((address) => ({
      org_id: orgId,
      address,
      owner_type: ownerType,
      owner_id: ownerId,
      is_primary: false,
    })),
  ];
}
