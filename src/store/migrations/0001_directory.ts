import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/** Organizations, domains, users, groups, addresses, memberships, audit log, operators, sessions, tokens. */
export function directoryMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('organizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('domains')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('domain', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('domains_pk', ['org_id', 'domain'])
        // A domain belongs to one organization across the whole service.
        .addUniqueConstraint('domains_domain_unique', ['domain'])
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('first_name', 'text')
        .addColumn('last_name', 'text')
        .addColumn('display_name', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('exempt', d.boolean, (c) => c.notNull().defaultTo(d.boolean === 'boolean' ? false : 0))
        .addColumn('password_hash', 'text')
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('users_pk', ['org_id', 'id'])
        .execute();
      await db.schema.createIndex('users_org_email').on('users').columns(['org_id', 'email']).execute();
      await db.schema
        .createIndex('users_org_external_id')
        .on('users')
        .columns(['org_id', 'external_id'])
        .unique()
        .execute();

      await db.schema
        .createTable('groups')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('exempt', d.boolean, (c) => c.notNull().defaultTo(d.boolean === 'boolean' ? false : 0))
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('updated_at', d.timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('groups_pk', ['org_id', 'id'])
        .execute();
      await db.schema.createIndex('groups_org_name').on('groups').columns(['org_id', 'name']).execute();
      await db.schema
        .createIndex('groups_org_external_id')
        .on('groups')
        .columns(['org_id', 'external_id'])
        .unique()
        .execute();

      await db.schema
        .createTable('addresses')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('owner_type', 'text', (c) => c.notNull())
        .addColumn('owner_id', 'text', (c) => c.notNull())
        .addColumn('is_primary', d.boolean, (c) => c.notNull())
        .addPrimaryKeyConstraint('addresses_pk', ['org_id', 'address'])
        // The one index that cannot lead with org_id: addresses are unique across the service.
        .addUniqueConstraint('addresses_address_unique', ['address'])
        .execute();
      await db.schema
        .createIndex('addresses_org_owner')
        .on('addresses')
        .columns(['org_id', 'owner_id'])
        .execute();

      await db.schema
        .createTable('group_members')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('group_id', 'text', (c) => c.notNull())
        .addColumn('member_type', 'text', (c) => c.notNull())
        .addColumn('member_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['org_id', 'group_id', 'member_type', 'member_id'])
        .execute();
      await db.schema
        .createIndex('group_members_org_member')
        .on('group_members')
        .columns(['org_id', 'member_id'])
        .execute();

      await db.schema
        .createTable('audit_log')
        .addColumn('org_id', 'text')
        .addColumn('id', 'integer', (c) =>
          d.name === 'postgres' ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', d.timestamp, (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_log_org_at').on('audit_log').columns(['org_id', 'at']).execute();

      await db.schema
        .createTable('operators')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('setup_token_hash', 'text')
        .addColumn('setup_token_expires_at', d.timestamp)
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('principal_type', 'text', (c) => c.notNull())
        .addColumn('principal_id', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text')
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('expires_at', d.timestamp, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();

      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.references('organizations.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        .addColumn('last_used_at', d.timestamp)
        .execute();
    },
  };
}
