import { type Migration, type MigrationResultSet, Migrator } from 'kysely';
import type { Store } from '../database.js';
import type { DialectInfo } from '../dialect.js';
import { directoryMigration } from './0001_directory.js';
import { syncMigration } from './0002_sync.js';
import { jobsMigration } from './0003_jobs.js';
import { recipientsMigration } from './0004_recipients.js';
import { authLifetimesMigration } from './0005_auth_lifetimes.js';
import { signinLimitsMigration } from './0006_signin_limits.js';
import { domainProofMigration } from './0007_domain_proof.js';
import { syncSearchesMigration } from './0008_sync_searches.js';
import { includeGuestsMigration } from './0009_include_guests.js';
import { sourceTablesMigration } from './0010_source_tables.js';
import { fingerprintIndexMigration } from './0011_fingerprint_index.js';
import { sourceClaimsMigration } from './0012_source_claims.js';
import { coveringMemberIndexesMigration } from './0013_covering_member_indexes.js';

/** Forward-only migrations, in order. Never edit one that has shipped: add the next. */
function migrations(d: DialectInfo): Record<string, Migration> {
  return {
    '0001_directory': directoryMigration(d),
    '0002_sync': syncMigration(d),
    '0003_jobs': jobsMigration(d),
    '0004_recipients': recipientsMigration(),
    '0005_auth_lifetimes': authLifetimesMigration(d),
    '0006_signin_limits': signinLimitsMigration(d),
    '0007_domain_proof': domainProofMigration(d),
    '0008_sync_searches': syncSearchesMigration(d),
    '0009_include_guests': includeGuestsMigration(d),
    '0010_source_tables': sourceTablesMigration(),
    '0011_fingerprint_index': fingerprintIndexMigration(),
    '0012_source_claims': sourceClaimsMigration(),
    '0013_covering_member_indexes': coveringMemberIndexesMigration(),
  };
}

/** Brings the schema up to the named migration and no further (tests of a migration start there). */
export async function migrateTo(store: Store, name: string): Promise<void> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations(store.dialect) },
  });
  const result = await migrator.migrateTo(name);
  if (result.error) throw result.error;
}

/**
 * Brings the schema up to date. Safe when several processes start at once: Kysely's migrator
 * takes a lock (an advisory lock on PostgreSQL, the write lock on SQLite — see database.ts)
 * and runs every pending migration in one transaction.
 */
export async function migrateToLatest(store: Store): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db: store.db,
    provider: { getMigrations: async () => migrations(store.dialect) },
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error');
    const cause = result.error instanceof Error ? result.error.message : String(result.error);
    throw new Error(`Migration ${failed?.migrationName ?? '(setup)'} failed: ${cause}`, {
      cause: result.error,
    });
  }
  return result;
}
