import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/** Automatic syncs: per-organization automation settings, connection health, notifications. */
export function jobsMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Settings of unattended syncs, apart from entra_settings so that shipped table stays as it is.
      await db.schema
        .createTable('sync_automation')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        // An automatic sync removing or deactivating more than this share of synced users is held…
        .addColumn('safeguard_percent', 'integer', (c) => c.notNull())
        // …and at least this many (small organizations would otherwise trip on one leaver).
        .addColumn('safeguard_min_users', 'integer', (c) => c.notNull())
        .addColumn('webhook_url', 'text')
        // Sealed like the client secret (AES-256-GCM); the HMAC key of webhook signatures.
        .addColumn('webhook_secret_ciphertext', 'text')
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .execute();

      // The connection's health as automatic syncs see it: consecutive failures drive the backoff.
      await db.schema
        .createTable('sync_health')
        .addColumn('org_id', 'text', (c) => c.primaryKey().references('organizations.id').onDelete('cascade'))
        .addColumn('consecutive_failures', 'integer', (c) => c.notNull())
        // JSON {code, message, hint?} of the last failure; null once a sync succeeds.
        .addColumn('last_error', 'text')
        .addColumn('last_failure_at', d.timestamp)
        .addColumn('last_success_at', d.timestamp)
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        // What makes a notification the same one: several schedulers (or a retried job) record it once.
        .addColumn('dedupe_key', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text')
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('read_at', d.timestamp)
        // JSON {email?: 'sent'|'skipped'|error, webhook?: …}: what delivery did, for operators.
        .addColumn('delivery', 'text')
        .addPrimaryKeyConstraint('notifications_pk', ['org_id', 'id'])
        .execute();
      await db.schema
        .createIndex('notifications_org_dedupe')
        .on('notifications')
        .columns(['org_id', 'dedupe_key'])
        .unique()
        .execute();
      await db.schema
        .createIndex('notifications_org_created')
        .on('notifications')
        .columns(['org_id', 'created_at'])
        .execute();
    },
  };
}
