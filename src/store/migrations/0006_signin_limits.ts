import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/**
 * Failed sign-ins per address, so the backoff holds across every process sharing the database
 * (an in-memory count would reset per process and per restart).
 */
export function signinLimitsMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('signin_limits')
        // The address as typed (trimmed, lower-cased) — also for addresses that have no account,
        // so a refusal does not tell which addresses exist.
        .addColumn('address', 'text', (c) => c.primaryKey())
        // Consecutive failures since the last successful sign-in.
        .addColumn('failures', 'integer', (c) => c.notNull())
        // Attempts before this moment are refused without checking the password.
        .addColumn('locked_until', d.timestamp)
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('signin_limits_updated').on('signin_limits').column('updated_at').execute();
    },
  };
}
