import type { Transaction } from 'kysely';
import type { Group, MemberRef, User } from '../directory/model.js';
import type {
  AddGroupChange,
  AddUserChange,
  PlannedMember,
  UpdateGroupChange,
  UpdateUserChange,
} from '../sync/changes.js';
import type { ApplyStep } from '../sync/select.js';
import { chunks } from './directory-repository.js';
import type { Database } from './schema.js';

/** What the writer needs besides the transaction: the organization, ids and time. */
export interface WriterContext {
  orgId: string;
  newId(): string;
  now: string;
  /** The directory as loaded for the re-check, before any write of this run. */
  users: Map<string, User>;
  groups: Map<string, Group>;
}

/**
 * Applies the selected steps of a plan inside the caller's transaction, in the order given
 * (see src/sync/select.ts for why that order). Rows are written in batches: a first sync of
 * 100,000 users is a few hundred statements, not a few hundred thousand. Every change it gets
 * has already been re-checked against the directory, so a failing statement means the database
 * refused (a race or a bug): the caller's transaction then rolls back the whole run.
 */
export async function applySteps(
  trx: Transaction<Database>,
  steps: ApplyStep[],
  ctx: WriterContext,
): Promise<void> {
  // Entra id → directory id for everything that exists, including objects created by this run.
  const userIdByExt = new Map<string, string>();
  const groupIdByExt = new Map<string, string>();
  for (const u of ctx.users.values()) if (u.externalId) userIdByExt.set(u.externalId, u.id);
  for (const g of ctx.groups.values()) if (g.externalId) groupIdByExt.set(g.externalId, g.id);

  for (const step of steps) {
    switch (step.step) {
      case 'create_groups':
        await createGroups(trx, step.changes, ctx, groupIdByExt);
        break;
      case 'add_users':
        await addUsers(trx, step.changes, ctx, userIdByExt);
        break;
      case 'update_users':
        for (const change of step.changes) await updateUser(trx, change, ctx);
        break;
      case 'update_groups':
        for (const change of step.changes) await updateGroup(trx, change, ctx);
        break;
      case 'set_memberships':
        await setMemberships(trx, step.changes, ctx, userIdByExt, groupIdByExt);
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

async function createGroups(
  trx: Transaction<Database>,
  changes: AddGroupChange[],
  ctx: WriterContext,
  groupIdByExt: Map<string, string>,
): Promise<void> {
  const rows: Database['groups'][] = [];
  const addresses: Database['addresses'][] = [];
  for (const change of changes) {
    const id = ctx.newId();
    groupIdByExt.set(change.externalId, id);
    const g = change.group;
    rows.push({
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
    addresses.push(...addressRows(ctx.orgId, 'group', id, g.email, g.aliases));
  }
  await insertBatches(trx, 'groups', rows);
  await insertBatches(trx, 'addresses', addresses);
}

async function addUsers(
  trx: Transaction<Database>,
  changes: AddUserChange[],
  ctx: WriterContext,
  userIdByExt: Map<string, string>,
): Promise<void> {
  const rows: Database['users'][] = [];
  const addresses: Database['addresses'][] = [];
  for (const change of changes) {
    const id = ctx.newId();
    userIdByExt.set(change.externalId, id);
    const u = change.user;
    rows.push({
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
    addresses.push(...addressRows(ctx.orgId, 'user', id, u.email, u.aliases));
  }
  await insertBatches(trx, 'users', rows);
  await insertBatches(trx, 'addresses', addresses);
}

async function updateUser(
  trx: Transaction<Database>,
  change: UpdateUserChange,
  ctx: WriterContext,
): Promise<void> {
  const current = ctx.users.get(change.userId)!;
  const next = { ...current, ...change.after };
  await trx
    .updateTable('users')
    .set({
      email: next.email,
      first_name: next.firstName,
      last_name: next.lastName,
      display_name: next.displayName,
      status: next.status,
      mailbox: next.mailbox,
      source: next.source,
      external_id: next.externalId,
      updated_at: ctx.now,
    })
    .where('org_id', '=', ctx.orgId)
    .where('id', '=', current.id)
    .execute();
  if (change.after.email !== undefined || change.after.aliases !== undefined) {
    await replaceAddresses(trx, ctx.orgId, 'user', current.id, next.email, next.aliases);
  }
}

async function updateGroup(
  trx: Transaction<Database>,
  change: UpdateGroupChange,
  ctx: WriterContext,
): Promise<void> {
  const current = ctx.groups.get(change.groupId)!;
  const { members: _members, ...fields } = change.after;
  const next = { ...current, ...fields };
  await trx
    .updateTable('groups')
    .set({ name: next.name, kind: next.kind, email: next.email, updated_at: ctx.now })
    .where('org_id', '=', ctx.orgId)
    .where('id', '=', current.id)
    .execute();
  if (change.after.email !== undefined || change.after.aliases !== undefined) {
    await replaceAddresses(trx, ctx.orgId, 'group', current.id, next.email, next.email ? next.aliases : []);
  }
}

/**
 * Writes group memberships: all members of a new group; only the difference for an updated one
 * (re-writing every member of each changed group made a 1 % change cost as much as 5 %).
 */
async function setMemberships(
  trx: Transaction<Database>,
  changes: (AddGroupChange | UpdateGroupChange)[],
  ctx: WriterContext,
  userIdByExt: Map<string, string>,
  groupIdByExt: Map<string, string>,
): Promise<void> {
  const touched: string[] = [];
  const added: Database['group_members'][] = [];
  const removed = new Map<string, MemberRef[]>();
  // A member whose add was unticked (or that vanished since the preview) does not exist: it is
  // left out now and planned again next time.
  const resolve = (m: PlannedMember) => resolveMember(m, ctx, userIdByExt, groupIdByExt);
  for (const change of changes) {
    const groupId = change.kind === 'add_group' ? groupIdByExt.get(change.externalId) : change.groupId;
    if (!groupId) continue;
    touched.push(groupId);
    const toAdd = change.kind === 'add_group' ? change.group.members : change.membersAdded;
    for (const ref of toAdd.map(resolve)) {
      if (ref) added.push({ org_id: ctx.orgId, group_id: groupId, member_type: ref.type, member_id: ref.id });
    }
    if (change.kind === 'update_group') {
      removed.set(
        groupId,
        change.membersRemoved.map(resolve).filter((r): r is MemberRef => r !== null),
      );
    }
  }
  for (const [groupId, refs] of removed) {
    for (const type of ['user', 'group'] as const) {
      const ids = refs.filter((r) => r.type === type).map((r) => r.id);
      for (const part of chunks(ids, 500)) {
        await trx
          .deleteFrom('group_members')
          .where('org_id', '=', ctx.orgId)
          .where('group_id', '=', groupId)
          .where('member_type', '=', type)
          .where('member_id', 'in', part)
          .execute();
      }
    }
  }
  // A member already there (listed twice, or re-added) is no error: the row stays as it is.
  for (const part of chunks(added, 5000)) {
    await trx
      .insertInto('group_members')
      .values(part)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  for (const part of chunks(touched, 500)) {
    await trx
      .updateTable('groups')
      .set({ updated_at: ctx.now })
      .where('org_id', '=', ctx.orgId)
      .where('id', 'in', part)
      .execute();
  }
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

async function replaceAddresses(
  trx: Transaction<Database>,
  orgId: string,
  ownerType: 'user' | 'group',
  ownerId: string,
  primary: string | null,
  aliases: string[],
): Promise<void> {
  await trx.deleteFrom('addresses').where('org_id', '=', orgId).where('owner_id', '=', ownerId).execute();
  await insertBatches(trx, 'addresses', addressRows(orgId, ownerType, ownerId, primary, aliases));
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

/** Multi-row inserts sized to stay under both dialects' bound-parameter limits (SQLite: 32,766). */
async function insertBatches<T extends 'users' | 'groups' | 'addresses' | 'group_members'>(
  trx: Transaction<Database>,
  table: T,
  rows: Database[T][],
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!).length;
  const size = Math.max(1, Math.floor(30_000 / columns));
  for (const part of chunks(rows, size)) {
    // Kysely cannot type an insert over a union of tables; each caller passes rows of `table`.
    await trx
      .insertInto(table)
      .values(part as never)
      .execute();
  }
}
