import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/** Entra settings per organization, the source mirror + delta cursor, stored previews, sync runs, leases. */
export function syncMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('entra_settings')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('tenant', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        // AES-256-GCM: iv.tag.ciphertext, base64url; never the clear secret.
        .addColumn('secret_ciphertext', 'text')
        .addColumn('secret_last4', 'text')
        .addColumn('secret_expires_at', 'text')
        .addColumn('default_role', 'text', (c) => c.notNull())
        .addColumn('what', 'text', (c) => c.notNull())
        .addColumn('how', 'text', (c) => c.notNull())
        .addColumn('frequency_hours', 'integer')
        .addColumn('cloud', 'text', (c) => c.notNull())
        .addColumn('authority_host', 'text')
        .addColumn('graph_url', 'text')
        .addColumn('ca_pem', 'text')
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .execute();

      // The last applied picture of the tenant and the delta cursor that continues it; written
      // only in the transaction that applied a plan read from it.
      await db.schema
        .createTable('sync_state')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('snapshot', d.binary, (c) => c.notNull())
        .addColumn('cursor', 'text', (c) => c.notNull())
        // JSON: what the last complete apply was planned against (see SyncBasis), or null.
        .addColumn('basis', 'text')
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sync_plans')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('expires_at', d.timestamp, (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        // gzip'd JSON: the plan and the versions of the objects it targets.
        .addColumn('body', d.binary, (c) => c.notNull())
        // gzip'd JSON of the snapshot the plan was made from; null when it equals sync_state's.
        .addColumn('snapshot', d.binary)
        .addColumn('cursor', 'text', (c) => c.notNull())
        .addColumn('used_by_run', 'text')
        .addPrimaryKeyConstraint('sync_plans_pk', ['org_id', 'id'])
        .execute();
      await db.schema
        .createIndex('sync_plans_org_expires')
        .on('sync_plans')
        .columns(['org_id', 'expires_at'])
        .execute();

      await db.schema
        .createTable('sync_runs')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('plan_id', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('started_at', d.timestamp, (c) => c.notNull())
        .addColumn('finished_at', d.timestamp)
        // JSON: counts per category, excluded, conflicts, skipped, errors, read stats.
        .addColumn('summary', 'text', (c) => c.notNull())
        // gzip'd JSON: the per-change outcome, for History.
        .addColumn('detail', d.binary)
        .addPrimaryKeyConstraint('sync_runs_pk', ['org_id', 'id'])
        .execute();
      await db.schema
        .createIndex('sync_runs_org_started')
        .on('sync_runs')
        .columns(['org_id', 'started_at'])
        .execute();

      // One sync per organization at a time, across processes: a lease that expires if its holder dies.
      await db.schema
        .createTable('sync_leases')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('expires_at', d.timestamp, (c) => c.notNull())
        .execute();
    },
  };
}
