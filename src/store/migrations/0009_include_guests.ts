import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/** Whether an organization syncs Entra's guest users too (off: guests are skipped, as before). */
export function includeGuestsMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('entra_settings')
        .addColumn('include_guests', d.boolean, (c) =>
          c.notNull().defaultTo(d.boolean === 'boolean' ? false : 0),
        )
        .execute();
    },
  };
}
