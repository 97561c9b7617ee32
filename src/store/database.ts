import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  sql,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import { AppError } from '../directory/errors.js';
import { type DialectInfo, POSTGRES, SQLITE, SqliteBooleanPlugin } from './dialect.js';
import { copyingClients } from './pg-copy.js';
import type { Database } from './schema.js';

/** An open database: the Kysely instance and what kind it is. */
export interface Store {
  db: Kysely<Database>;
  dialect: DialectInfo;
  close(): Promise<void>;
}

/** One open transaction; repositories join it with `.with(trx)`. */
export type StoreTransaction = Transaction<Database>;

/**
 * Runs `work` in one transaction: a use case (a service) decides what must change together,
 * the repositories it hands `trx` to do the SQL.
 */
export function inTransaction<T>(store: Store, work: (trx: StoreTransaction) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(work);
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
    copyingClients(pool);
    const db = new Kysely<Database>({ dialect: new DiskFullPostgresDialect({ pool }) });
    return { db, dialect: POSTGRES, close: () => db.destroy() };
  }
  // The folder holds the database and the key that seals client secrets: the owner's alone.
  mkdirSync(dirname(location.sqliteFile), { recursive: true, mode: 0o700 });
  // Created 0600 before SQLite opens it; SQLite gives its -wal and -shm files the same mode.
  closeSync(openSync(location.sqliteFile, 'a', 0o600));
  const database = new SQLite(location.sqliteFile);
  // Another process (a second `entrasync` command, a migration) may hold the write lock briefly;
  // set first, so that even switching to WAL waits for it instead of failing.
  database.pragma('busy_timeout = 10000');
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({
    dialect: new SerializedMigrationSqliteDialect({ database }, database),
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
  constructor(
    config: SqliteDialectConfig,
    private readonly database: SQLite.Database,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }

  /**
   * Some failures (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM…) make SQLite roll the transaction
   * back itself. A second rollback would then fail with "cannot rollback - no transaction is
   * active", and that error would replace the one that says what happened.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.database.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
}

class SerializedMigrationSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly database: SQLite.Database,
  ) {
    super(config);
  }

  override createDriver() {
    return new DiskFullDriver(new ImmediateTransactionSqliteDriver(this.config, this.database));
  }

  override createAdapter() {
    return new SerializedMigrationSqliteAdapter();
  }
}

class DiskFullPostgresDialect extends PostgresDialect {
  override createDriver() {
    return new DiskFullDriver(super.createDriver());
  }
}

/** SQLite's SQLITE_FULL and PostgreSQL's disk_full (53100): the statement failed and wrote nothing. */
function isDiskFull(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'SQLITE_FULL' || code === '53100';
}

const diskFull = (cause: unknown) =>
  new AppError(
    'disk_full',
    "The database's disk is full: nothing was written. Free space where the database lives and try again.",
    undefined,
    { cause },
  );

/**
 * Names a full disk as such, for every query of either dialect, so callers (the API, the CLI, the
 * workers) report it the same way instead of a driver's wording. Wraps the dialect's driver;
 * transactions are still begun and ended by that driver, on its own connection object.
 */
class DiskFullDriver implements Driver {
  readonly #own = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    const translating: DatabaseConnection = {
      executeQuery: async (query) => {
        try {
          return await connection.executeQuery(query);
        } catch (error) {
          throw isDiskFull(error) ? diskFull(error) : error;
        }
      },
      streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
    };
    this.#own.set(translating, connection);
    return translating;
  }

  #inner(connection: DatabaseConnection): DatabaseConnection {
    return this.#own.get(connection) ?? connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: Parameters<Driver['beginTransaction']>[1]) {
    return this.inner.beginTransaction(this.#inner(connection), settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(this.#inner(connection));
    } catch (error) {
      throw isDiskFull(error) ? diskFull(error) : error;
    }
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(this.#inner(connection));
  }

  savepoint(...[connection, ...rest]: Parameters<NonNullable<Driver['savepoint']>>): Promise<void> {
    return this.inner.savepoint!(this.#inner(connection), ...rest);
  }

  rollbackToSavepoint(
    ...[connection, ...rest]: Parameters<NonNullable<Driver['rollbackToSavepoint']>>
  ): Promise<void> {
    return this.inner.rollbackToSavepoint!(this.#inner(connection), ...rest);
  }

  releaseSavepoint(
    ...[connection, ...rest]: Parameters<NonNullable<Driver['releaseSavepoint']>>
  ): Promise<void> {
    return this.inner.releaseSavepoint!(this.#inner(connection), ...rest);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.#inner(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
