import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
} from 'kysely';
import pg from 'pg';
import { type DialectInfo, POSTGRES, SQLITE, SqliteBooleanPlugin } from './dialect.js';
import type { Database } from './schema.js';

/** An open database: the Kysely instance and what kind it is. */
export interface Store {
  db: Kysely<Database>;
  dialect: DialectInfo;
  close(): Promise<void>;
}

/** Where the data lives: a postgres:// URL, or a SQLite file path. */
export type StoreLocation = { postgresUrl: string } | { sqliteFile: string };

// timestamptz comes back as an ISO string (not a Date) so both dialects return the same types.
const TIMESTAMPTZ_OID = 1184;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID) return (value: string) => new Date(value).toISOString();
    return pg.types.getTypeParser(oid, format);
  },
};

/** Opens (does not migrate) the database. */
export function openStore(location: StoreLocation, options: { poolSize?: number } = {}): Store {
  if ('postgresUrl' in location) {
    const pool = new pg.Pool({
      connectionString: location.postgresUrl,
      max: options.poolSize ?? 10,
      types: pgTypes,
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: POSTGRES, close: () => db.destroy() };
  }
  mkdirSync(dirname(location.sqliteFile), { recursive: true });
  const database = new SQLite(location.sqliteFile);
  // Another process (a second `entrasync` command, a migration) may hold the write lock briefly;
  // set first, so that even switching to WAL waits for it instead of failing.
  database.pragma('busy_timeout = 10000');
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({
    dialect: new SerializedMigrationSqliteDialect({ database }),
    plugins: [new SqliteBooleanPlugin()],
  });
  return { db, dialect: SQLITE, close: () => db.destroy() };
}

/**
 * Kysely's SQLite adapter takes no migration lock because one connection is all a process has,
 * and runs migrations outside a transaction. Two processes starting at once each have their own
 * connection, so we run the migrations in one transaction (SQLite's DDL is transactional) and
 * take SQLite's write lock first thing in it: the second process then waits (busy_timeout)
 * instead of both reading "not migrated" and racing.
 */
class SerializedMigrationSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  override async acquireMigrationLock(db: Kysely<unknown>): Promise<void> {
    await sql`update kysely_migration_lock set is_locked = 1 where id = 'migration_lock'`.execute(db);
  }
}

/**
 * Transactions begin IMMEDIATE: the write lock is taken (waiting busy_timeout for another
 * process) before the transaction reads anything. A deferred BEGIN would read first and ask for
 * the lock later; in WAL mode, if another process wrote in between, SQLite then answers
 * "database is locked" at once (SQLITE_BUSY_SNAPSHOT) instead of waiting — two processes
 * migrating at once hit exactly that.
 */
class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class SerializedMigrationSqliteDialect extends SqliteDialect {
  constructor(private readonly config: SqliteDialectConfig) {
    super(config);
  }

  override createDriver() {
    return new ImmediateTransactionSqliteDriver(this.config);
  }

  override createAdapter() {
    return new SerializedMigrationSqliteAdapter();
  }
}
