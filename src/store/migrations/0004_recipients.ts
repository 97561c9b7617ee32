import type { Kysely, Migration } from 'kysely';

/**
 * Recipients as Exchange knows them: a user's mailbox purpose, the organization's rule for
 * mailboxes with sign-in blocked whose purpose is unknown, and the licensed seat count.
 */
export function recipientsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // mailboxSettings.userPurpose (user, shared, room, …); null while unknown.
      await db.schema.alterTable('users').addColumn('mailbox', 'text').execute();
      // 'deliver' or 'reject' (src/directory/recipients.ts).
      await db.schema
        .alterTable('entra_settings')
        .addColumn('blocked_mailboxes', 'text', (c) => c.notNull().defaultTo('deliver'))
        .execute();
      // null: the licence is not tracked.
      await db.schema.alterTable('organizations').addColumn('licensed_seats', 'integer').execute();
    },
  };
}
