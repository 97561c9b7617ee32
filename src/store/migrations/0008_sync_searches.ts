import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/**
 * Searches (manual-sync previews) run as jobs: the request that starts one is answered at once,
 * and the runner writes its progress here, so any API server can show it and cancel it.
 */
export function syncSearchesMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sync_searches')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        // running | done | failed | cancelled
        .addColumn('state', 'text', (c) => c.notNull())
        // read | plan | store while running; null once finished
        .addColumn('phase', 'text')
        // Set by a cancel on any server; the runner reads it at each progress write.
        .addColumn('cancel_requested_at', d.timestamp)
        .addColumn('started_at', d.timestamp, (c) => c.notNull())
        // The runner's last progress or heartbeat write: a running search silent for long is dead.
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .addColumn('finished_at', d.timestamp)
        .addColumn('started_by', 'text', (c) => c.notNull())
        // JSON: pages and objects read per collection.
        .addColumn('progress', 'text', (c) => c.notNull())
        .addColumn('plan_id', 'text')
        // JSON: the API's error body of a failed search.
        .addColumn('error', 'text')
        .addPrimaryKeyConstraint('sync_searches_pk', ['org_id', 'id'])
        .execute();
      await db.schema
        .createIndex('sync_searches_org_started')
        .on('sync_searches')
        .columns(['org_id', 'started_at'])
        .execute();
      // One running search per organization, even when two servers are asked at once.
      await db.schema
        .createIndex('sync_searches_one_running')
        .on('sync_searches')
        .column('org_id')
        .unique()
        .where(sql.ref('state'), '=', 'running')
        .execute();
    },
  };
}
