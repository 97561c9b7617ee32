import type { Kysely, Migration } from 'kysely';
import type { DialectInfo } from '../dialect.js';

/**
 * Domains are proven before they count. `domains` keeps its meaning — the domains that accept
 * addresses, each owned by one organization — and learns how it was proven. A domain an
 * organization admin adds waits in `domain_claims` until a DNS TXT record or the Entra tenant
 * proves it; several organizations may claim one domain, so a claim cannot lock out its owner.
 */
export function domainProofMigration(d: DialectInfo): Migration {
  return {
    async up(db: Kysely<unknown>) {
      // Domains that exist already were accepted before proof was asked for: they keep counting
      // (mail depends on them), and say so.
      await db.schema
        .alterTable('domains')
        .addColumn('proven_by', 'text', (c) => c.notNull().defaultTo('before_proof'))
        .execute();
      await db.schema.alterTable('domains').addColumn('proven_at', d.timestamp).execute();

      await db.schema
        .createTable('domain_claims')
        .addColumn('org_id', 'text', (c) => c.notNull().references('organizations.id').onDelete('cascade'))
        .addColumn('domain', 'text', (c) => c.notNull())
        // The value of the TXT record that proves it: entrasync-verification=<token>.
        .addColumn('token', 'text', (c) => c.notNull())
        .addColumn('created_at', d.timestamp, (c) => c.notNull())
        // The latest Verify attempt: when, and what it found (a sentence for the admin).
        .addColumn('checked_at', d.timestamp)
        .addColumn('check_outcome', 'text')
        .addPrimaryKeyConstraint('domain_claims_pk', ['org_id', 'domain'])
        .execute();
      await db.schema.createIndex('domain_claims_domain').on('domain_claims').column('domain').execute();

      // The Entra tenant's word proves a domain only when Microsoft gives it: custom endpoints an
      // organization admin chose could answer anything. Endpoints saved before this are not trusted.
      await db.schema
        .alterTable('entra_settings')
        .addColumn('endpoints_by_operator', d.boolean, (c) =>
          c.notNull().defaultTo(d.boolean === 'boolean' ? false : 0),
        )
        .execute();
    },
  };
}
