import { type Kysely, type Migration, sql } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/** Days an API token made before this migration has left, counted from the migration. */
const EXISTING_TOKEN_DAYS = 90;

/**
 * API tokens get an expiry, the account they belong to (so they die with it) and a flag for
 * whether they may create tokens themselves.
 */
export function authLifetimesMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Nullable in the schema because SQLite cannot add a NOT NULL column without a constant
      // default; every row is filled below and every new token is written with one.
      await db.schema.alterTable('api_tokens').addColumn('expires_at', d.timestamp).execute();
      // 'user' | 'operator'; null: made with the CLI, which belongs to no account.
      await db.schema.alterTable('api_tokens').addColumn('creator_type', 'text').execute();
      await db.schema.alterTable('api_tokens').addColumn('creator_id', 'text').execute();
      await db.schema
        .alterTable('api_tokens')
        .addColumn('can_create_tokens', d.boolean, (c) =>
          c.notNull().defaultTo(d.boolean === 'boolean' ? false : 0),
        )
        .execute();
      const expires = new Date(Date.now() + EXISTING_TOKEN_DAYS * 86_400_000).toISOString();
      await sql`update api_tokens set expires_at = ${expires}`.execute(db);
      // created_by held the creator's address: find the account it names, so existing tokens
      // die with their accounts too. Tokens made by the CLI or by another token stay unowned.
      await sql`update api_tokens set creator_type = 'user',
        creator_id = (select u.id from users u where u.email = api_tokens.created_by)
        where exists (select 1 from users u where u.email = api_tokens.created_by)`.execute(db);
      await sql`update api_tokens set creator_type = 'operator',
        creator_id = (select o.id from operators o where o.email = api_tokens.created_by)
        where exists (select 1 from operators o where o.email = api_tokens.created_by)`.execute(db);
      await db.schema.createIndex('api_tokens_creator').on('api_tokens').column('creator_id').execute();
      await db.schema
        .createIndex('sessions_principal')
        .on('sessions')
        .columns(['principal_type', 'principal_id'])
        .execute();
    },
  };
}
