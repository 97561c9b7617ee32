import type { Kysely, Migration } from 'kysely';

/**
 * The lookups by member and by address key — which groups list these objects, who claims these
 * addresses — had an index each, but SQLite did not use it: their tables' primary keys hold every
 * column the lookups read, and the planner prefers a covering index that narrows to the
 * organization alone over a narrower one that does not cover, so each lookup scanned the
 * organization's rows (~50 ms at 100,000 users, whatever the number of keys; a focused plan asks
 * a few times per wave of its closure). These indexes lead with the looked-up columns and cover
 * the rest, so the lookup is a seek per key.
 */
export function coveringMemberIndexesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const indexes = [
        {
          name: 'source_claims_key',
          table: 'source_claims',
          columns: ['org_id', 'claim_key', 'object_type', 'external_id'],
        },
        {
          name: 'source_members_member',
          table: 'source_members',
          columns: ['org_id', 'member_type', 'member_id', 'group_id'],
        },
        // Replaces group_members_org_member (org_id, member_id). The member's id leads its type:
        // the directory looks up members by id alone, too.
        {
          name: 'group_members_member',
          table: 'group_members',
          columns: ['org_id', 'member_id', 'member_type', 'group_id'],
          replaces: 'group_members_org_member',
        },
      ];
      for (const { name, table, columns, replaces } of indexes) {
        await db.schema.dropIndex(replaces ?? name).execute();
        await db.schema.createIndex(name).on(table).columns(columns).execute();
      }
    },
  };
}
