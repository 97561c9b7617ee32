import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openStore, type Store, type StoreLocation } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';

/** The databases every medium test runs against: both, always, for real. */
export const DATABASES = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASES)[number];

/** A fresh, empty database of one kind, and how to drop it. */
export interface TestDatabase {
  kind: DatabaseKind;
  location: StoreLocation;
  /** Environment for child processes (the CLI) that should use this database. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** Creates a new database: a SQLite file in a temp folder, or a new database on the test PostgreSQL. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'entrasync-test-'));
    return {
      kind,
      location: { sqliteFile: join(dir, 'entrasync.db') },
      env: { DATA_DIR: dir, DATABASE_URL: '' },
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const serverUrl = inject('postgresUrl');
  const name = `entrasync_test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-test-'));
  return {
    kind,
    location: { postgresUrl: url.toString() },
    env: { DATABASE_URL: url.toString(), DATA_DIR: dir },
    drop: async () => {
      await withClient(serverUrl, async (c) => {
        await connectionsGone(c, name);
        await c.query(`drop database if exists ${name} with (force)`);
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh database, opened and migrated. */
export async function createTestStore(kind: DatabaseKind): Promise<{ store: Store; db: TestDatabase }> {
  const db = await createTestDatabase(kind);
  const store = openStore(db.location);
  await migrateToLatest(store);
  return { store, db };
}

/**
 * Waits (up to 10 s) until no session uses database `name`. pg-pool's end() resolves before its
 * sockets have closed, and dropping a database WITH FORCE under a closing client makes that
 * client throw an uncaught "terminating connection" error, failing whichever test file it lands
 * in. After 10 s the drop goes ahead: a connection still open then is a leak, and forcing it out
 * says so.
 */
async function connectionsGone(c: pg.Client, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { rows } = await c.query<{ n: string }>(
      'select count(*) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    if (Number(rows[0]!.n) === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function withClient<T>(url: string, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
