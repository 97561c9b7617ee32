import { gunzipSync } from 'node:zlib';
import type { Kysely, Migration } from 'kysely';

/**
 * The source mirror moves from one gzip'd JSON per organization (sync_state.snapshot) into
 * tables keyed by Entra id: source_users, source_groups, source_members. An apply then writes
 * the rows a delta changed instead of packing the whole tenant again. Existing mirrors are
 * unpacked into rows here, so no organization needs a full read after the upgrade.
 *
 * The converter reads the snapshot format as it was stored until now (SourceSnapshot of
 * src/sync/source.ts, at this migration's time) and writes the rows as this migration defines
 * them; it imports nothing that may change later.
 */
export function sourceTablesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // One row per Entra user: its record (src/sync/source.ts SourceUser) as JSON.
      await db.schema
        .createTable('source_users')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_users_pk', ['org_id', 'external_id'])
        .execute();
      // One row per Entra group: its record without the member lists, as JSON.
      await db.schema
        .createTable('source_groups')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_groups_pk', ['org_id', 'external_id'])
        .execute();
      // One row per direct membership, by Entra ids; member_type 'user' | 'group'.
      await db.schema
        .createTable('source_members')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('member_type', 'text', (c) => c.notNull())
        .addColumn('member_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_members_pk', ['org_id', 'group_id', 'member_type', 'member_id'])
        .execute();
      // Which groups list an object: what focused planning asks of a changed member.
      await db.schema
        .createIndex('source_members_member')
        .on('source_members')
        .columns(['org_id', 'member_type', 'member_id'])
        .execute();

      const states = await db
        .selectFrom('sync_state' as never)
        .select(['org_id as orgId', 'snapshot'] as never)
        .execute();
      for (const { orgId, snapshot } of states as { orgId: string; snapshot: Uint8Array }[]) {
        await convert(db, orgId, JSON.parse(gunzipSync(snapshot).toString('utf8')) as StoredSnapshot);
      }
      await db.schema.alterTable('sync_state').dropColumn('snapshot').execute();
    },
  };
}

/** The snapshot as sync_state stored it. */
interface StoredSnapshot {
  users: ({ externalId: string } & Record<string, unknown>)[];
  groups: ({ externalId: string; memberUserIds: string[]; memberGroupIds: string[] } & Record<
    string,
    unknown
  >)[];
}

async function convert(db: Kysely<unknown>, orgId: string, snapshot: StoredSnapshot): Promise<void> {
  const users = snapshot.users.map(({ externalId, ...record }) => ({
    org_id: orgId,
    external_id: externalId,
    record: JSON.stringify(record),
  }));
  const groups = snapshot.groups.map(({ externalId, memberUserIds: _u, memberGroupIds: _g, ...record }) => ({
    org_id: orgId,
    external_id: externalId,
    record: JSON.stringify(record),
  }));
  const members = snapshot.groups.flatMap((g) => [
    ...g.memberUserIds.map((id) => ({
      org_id: orgId,
      group_id: g.externalId,
      member_type: 'user',
      member_id: id,
    })),
    ...g.memberGroupIds.map((id) => ({
      org_id: orgId,
      group_id: g.externalId,
      member_type: 'group',
      member_id: id,
    })),
  ]);
  await insertAll(db, 'source_users', users);
  await insertAll(db, 'source_groups', groups);
  await insertAll(db, 'source_members', members);
}

async function insertAll(db: Kysely<unknown>, table: string, rows: Record<string, string>[]): Promise<void> {
  if (rows.length === 0) return;
  // Under both dialects' bound-parameter limits (SQLite: 32,766).
  const size = Math.floor(30_000 / Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += size) {
    await db
      .insertInto(table as never)
      .values(rows.slice(i, i + size) as never)
      .execute();
  }
}
