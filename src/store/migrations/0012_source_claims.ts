import type { Kysely, Migration } from 'kysely';

/**
 * The addresses each object of the source mirror claims, one row per (object, key): focused
 * planning asks which other objects claim a changed object's addresses, and answers it by key
 * here instead of indexing the whole mirror every sync. Existing mirrors are indexed here.
 *
 * The keys are those of claimKeys (src/sync/source.ts) at this migration's time, copied below
 * so that this migration never changes: a later change of the keys needs a migration that
 * rebuilds the table.
 */
export function sourceClaimsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('source_claims')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('claim_key', 'text', (c) => c.notNull())
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('source_claims_pk', ['org_id', 'object_type', 'external_id', 'claim_key'])
        .execute();
      await db.schema
        .createIndex('source_claims_key')
        .on('source_claims')
        .columns(['org_id', 'claim_key'])
        .execute();
      // One organization and kind at a time: a mirror is held in memory, never all of them.
      const orgs = (await db
        .selectFrom('organizations' as never)
        .select('id' as never)
        .execute()) as {
        id: string;
      }[];
      for (const { id } of orgs)
        for (const [table, type] of [
          ['source_users', 'user'],
          ['source_groups', 'group'],
        ] as const) {
          const rows = (await db
            .selectFrom(table as never)
            .select(['org_id', 'external_id', 'record'] as never)
            .where('org_id' as never, '=', id as never)
            .execute()) as { org_id: string; external_id: string; record: string }[];
          const claims = rows.flatMap((r) =>
            claimKeys(JSON.parse(r.record) as StoredRecord).map((key) => ({
              org_id: r.org_id,
              claim_key: key,
              object_type: type,
              external_id: r.external_id,
            })),
          );
          // Under both dialects' bound-parameter limits (SQLite: 32,766).
          for (let i = 0; i < claims.length; i += 7_000) {
            await db
              .insertInto('source_claims' as never)
              .values(claims.slice(i, i + 7_000) as never)
              .execute();
          }
        }
    },
  };
}

/** A mirror record as source_users and source_groups store it (the fields the keys read). */
interface StoredRecord {
  proxyAddresses: string[];
  mail: string | null;
}

function claimKeys(o: StoredRecord): string[] {
  const out = new Set<string>();
  const take = (raw: string) => {
    const key = raw.toLowerCase().replace(/\s+/g, '').replace(/\.$/, '');
    // No valid address is longer than 254 characters or holds a NUL (which PostgreSQL's text refuses).
    if (key.length <= 254 && !key.includes('\u0000')) out.add(key);
  };
  for (const entry of o.proxyAddresses) {
    const colon = entry.indexOf(':');
    if (colon < 0 || entry.slice(0, colon).trim().toLowerCase() !== 'smtp') continue;
    const address = entry.slice(colon + 1);
    if (address.trim()) take(address);
  }
  if (o.mail?.trim()) take(o.mail);
  return [...out];
}
