import { spawn } from 'node:child_process';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { type App, openApp } from '../../src/services/app.js';
import { runError } from '../../src/services/run-errors.js';
import type { RunResult } from '../../src/services/sync.js';
import { SyncRepository } from '../../src/store/sync-repository.js';
import { entrasync } from '../support/cli.js';
import { cliArgs } from '../support/cli-build.js';
import { DATABASES } from '../support/databases.js';
import { addUsers, connectOrg, createJobsApp, waitFor } from './support.js';

/**
 * The per-organization sync lease, renewed while a sync works, on both databases: a killed
 * `entrasync sync` frees its organization once its lease expires and its run reads failed
 * (`worker_lost`); a live sync keeps its lease however long it takes; two syncs racing for an
 * expired lease have one winner. Leases of 1–3 s keep the tests short.
 */
describe.each(DATABASES)('sync lease on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let env: Record<string, string>;
  const extraApps: App[] = [];

  /**
   * Another process's view of the same database, with its own connections and lease lifetime.
   * Opened one at a time: on SQLite, migrations opened at once in one process wait on each other's
   * lock synchronously (better-sqlite3), which real processes do not.
   */
  async function otherApp(leaseSeconds: number): Promise<App> {
    const other = await openApp(loadConfig({ ...env, ENTRASYNC_SYNC_LEASE_SECONDS: String(leaseSeconds) }));
    extraApps.push(other);
    return other;
  }

  /** The org's runs and lease as stored, read without the service (which would close orphans). */
  const storedRuns = (orgId: string) =>
    app.store.db
      .selectFrom('sync_runs')
      .select(['id', 'status', 'finished_at', 'summary'])
      .where('org_id', '=', orgId)
      .orderBy('started_at')
      .execute();
  const storedLease = (orgId: string) =>
    app.store.db.selectFrom('sync_leases').selectAll().where('org_id', '=', orgId).executeTakeFirst();

  /** A run recorded as running, as a sync leaves it when it is killed. */
  async function insertRunningRun(orgId: string, runId: string): Promise<void> {
    await app.store.db
      .insertInto('sync_runs')
      .values({
        org_id: orgId,
        id: runId,
        trigger: 'manual',
        actor: 'cli',
        plan_id: null,
        status: 'running',
        started_at: new Date(Date.now() - 120_000).toISOString(),
        finished_at: null,
        summary: '{}',
        detail: null,
      })
      .execute();
  }

  async function insertLease(orgId: string, holder: string, expiresAt: Date): Promise<void> {
    await app.store.db
      .insertInto('sync_leases')
      .values({ org_id: orgId, holder, purpose: 'manual sync by cli', expires_at: expiresAt.toISOString() })
      .execute();
  }

  /** What a sync killed mid-run leaves once its lease has expired: a running run and its stale lease. */
  async function deadSync(orgId: string, runId: string): Promise<void> {
    await insertRunningRun(orgId, runId);
    await insertLease(orgId, runId, new Date(Date.now() - 60_000));
  }

  const expectWorkerLost = (run: { status: string; finished_at: string | null; summary: string }) => {
    expect(run.status).toBe('failed');
    expect(run.finished_at).not.toBeNull();
    expect((JSON.parse(run.summary) as { errors: unknown[] }).errors).toEqual([runError('worker_lost')]);
  };

  beforeAll(async () => {
    // Small pages: a read is many requests, so latency makes it last.
    emu = await startEmulator({ users: 0, groups: 0, seed: 77, throttle: false, deltaPageSize: 5 });
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp(kind));
    env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' };
  });
  afterAll(async () => {
    for (const other of extraApps.splice(0)) await other.close();
    await close?.();
    await emu?.close();
  });

  it('a CLI sync killed mid-read frees its organization once its lease expires; its run reads worker_lost', async () => {
    addUsers(emu, 'killed.example', 40);
    const orgId = await connectOrg(app, emu, 'killed.example', { frequencyHours: null });
    emu.setLatency(400);
    const child = spawn(process.execPath, cliArgs(['sync', '--org', 'killed.example', '--json']), {
      env: { ...process.env, ...env, ENTRASYNC_SYNC_LEASE_SECONDS: '3' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const exited = new Promise((r) => child.once('exit', r));
    let killedRunId: string;
    try {
      // Mid-read: its run is recorded, it holds the lease, and the emulator is still answering it.
      killedRunId = await waitFor(
        async () => {
          if (child.exitCode !== null) throw new Error(`the sync ended before it was killed: ${output}`);
          const [run] = await storedRuns(orgId);
          const lease = await storedLease(orgId);
          return run?.status === 'running' && lease?.holder === run.id ? run.id : undefined;
        },
        60_000,
        'the CLI sync to start reading',
      );
    } finally {
      child.kill('SIGKILL');
    }
    await exited;
    expect(child.signalCode).toBe('SIGKILL');
    expect((await storedRuns(orgId)).map((r) => r.status)).toEqual(['running']);
    emu.setLatency(0);

    const killedAt = Date.now();
    const second = await waitFor(
      async () => {
        const result = await entrasync(['sync', '--org', 'killed.example', '--json'], env);
        if (result.code === 0) return result;
        expect(result.stderr).toContain('already running');
        await new Promise((r) => setTimeout(r, 500));
        return undefined;
      },
      60_000,
      'a second sync to be let in',
    );
    expect(Date.now() - killedAt).toBeLessThan(60_000);
    expect(second.json<{ status: string }>().status).toBe('succeeded');
    const [killed, next] = await storedRuns(orgId);
    expect(killed!.id).toBe(killedRunId);
    expectWorkerLost(killed!);
    expect(next!.status).toBe('succeeded');
    expect(await storedLease(orgId)).toBeUndefined();
  }, 180_000);

  it('a live sync keeps renewing its lease: a second sync is refused beyond one lease lifetime', async () => {
    addUsers(emu, 'long.example', 40);
    const orgId = await connectOrg(app, emu, 'long.example', { frequencyHours: null });
    const first = await otherApp(1);
    const second = await otherApp(1);
    emu.setLatency(500);
    const started = Date.now();
    const running = (await first.sync(orgId)).execute({ trigger: 'manual' }, 'first');
    running.catch(() => undefined);
    const renewed = await waitFor(
      async () => {
        const lease = await storedLease(orgId);
        // Three lifetimes after the start, the lease still expires in the future: it was renewed.
        return Date.now() - started > 3_000 && lease ? lease : undefined;
      },
      30_000,
      'three lease lifetimes to pass',
    );
    expect(new Date(renewed.expires_at).getTime()).toBeGreaterThan(started + 3_000);
    expect((await storedRuns(orgId)).map((r) => r.status)).toEqual(['running']);
    await expect((await second.sync(orgId)).execute({ trigger: 'manual' }, 'second')).rejects.toThrow(
      /already running \(manual sync by first\)/,
    );
    emu.setLatency(0);
    expect((await running).status).toBe('succeeded');
    expect((await storedRuns(orgId)).map((r) => r.status)).toEqual(['succeeded']);
  }, 120_000);

  it('a sync whose lease was taken over while it read applies nothing and says why', async () => {
    addUsers(emu, 'overtaken.example', 20);
    const orgId = await connectOrg(app, emu, 'overtaken.example', { frequencyHours: null });
    const first = await otherApp(60);
    emu.setLatency(300);
    const running = (await first.sync(orgId)).execute({ trigger: 'manual' }, 'first');
    running.catch(() => undefined);
    const runId = await waitFor(async () => (await storedLease(orgId))?.holder, 30_000, 'the sync to start');
    // What a takeover does to a sync that was presumed dead: its lease now belongs to another.
    await app.store.db
      .updateTable('sync_leases')
      .set({ holder: 'taker', purpose: 'manual sync by taker' })
      .where('org_id', '=', orgId)
      .execute();
    emu.setLatency(0);
    const result = await running;
    expect(result.status).toBe('failed');
    expect(result.errors[0]?.message).toMatch(
      /lost its hold on the organization .*nothing of it was applied/,
    );
    expect((await (await app.directory(orgId)).listUsers({ limit: 5, offset: 0 })).items).toHaveLength(0);
    expect((await storedRuns(orgId)).map((r) => [r.id, r.status])).toEqual([[runId, 'failed']]);
    // The taker's lease is the taker's: the overtaken sync did not release it.
    expect((await storedLease(orgId))?.holder).toBe('taker');
  }, 60_000);

  it('two syncs racing for an expired lease: exactly one wins and closes the dead run', async () => {
    addUsers(emu, 'race.example', 3);
    const orgId = await connectOrg(app, emu, 'race.example', { frequencyHours: null });
    await deadSync(orgId, 'dead-run');
    const racers = [await otherApp(60), await otherApp(60), await otherApp(60)];
    const results = await Promise.allSettled(
      racers.map(async (racer, i) => (await racer.sync(orgId)).execute({ trigger: 'manual' }, `racer ${i}`)),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(2);
    for (const r of lost) expect(String(r.reason)).toMatch(/already running/);
    const runs = await storedRuns(orgId);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expectWorkerLost(runs[0]!);
  }, 60_000);

  it('many takeovers of one expired lease at once: one acquires it', async () => {
    const org = await app.orgs.create({ name: 'cas.example', domains: ['cas.example'] }, 'test');
    await deadSync(org.id, 'dead-holder');
    const stores = [await otherApp(60), await otherApp(60), await otherApp(60), await otherApp(60)];
    const now = new Date();
    const attempts = await Promise.all(
      stores.flatMap((other, i) =>
        [0, 1].map((j) =>
          new SyncRepository(other.store.db, other.store.dialect, org.id).acquireLease(
            `racer-${i}-${j}`,
            'race',
            now,
            60_000,
          ),
        ),
      ),
    );
    expect(attempts.filter((a) => a.acquired)).toHaveLength(1);
  });

  it('listing runs closes a run whose lease is gone, and leaves a live one running', async () => {
    const org = await app.orgs.create({ name: 'list.example', domains: ['list.example'] }, 'test');
    await deadSync(org.id, 'expired-lease');
    // A run whose lease row is gone altogether (dropped by hand, or a holder that released it and died).
    await insertRunningRun(org.id, 'no-lease');
    const sync = await app.sync(org.id);
    const runs = await sync.runs();
    expect(runs.map((r) => [r.id, r.status]).sort()).toEqual([
      ['expired-lease', 'failed'],
      ['no-lease', 'failed'],
    ]);
    for (const run of await storedRuns(org.id)) expectWorkerLost(run);
    expect(await storedLease(org.id)).toBeUndefined();

    // A run holding a live lease is someone's sync at work: looking at it changes nothing.
    const live = await app.orgs.create({ name: 'live.example', domains: ['live.example'] }, 'test');
    await insertRunningRun(live.id, 'live-run');
    await insertLease(live.id, 'live-run', new Date(Date.now() + 60_000));
    expect((await (await app.sync(live.id)).run('live-run')).status).toBe('running');
  });

  it.runIf(kind === 'postgres')(
    'an apply held up longer than a lease lifetime keeps its lease and commits; a sync meanwhile waits for it',
    async () => {
      addUsers(emu, 'slow.example', 5);
      const orgId = await connectOrg(app, emu, 'slow.example', { frequencyHours: null });
      const first = await otherApp(1);
      const second = await otherApp(1);
      const blocker = new pg.Client({ connectionString: env.DATABASE_URL });
      await blocker.connect();
      let meanwhile: Promise<RunResult>;
      let applied: Promise<RunResult>;
      try {
        // The apply writes its users, then waits at the mirror's write: a slow database, for as long as we like.
        await blocker.query('begin');
        await blocker.query('lock table sync_state in exclusive mode');
        applied = (await first.sync(orgId)).execute({ trigger: 'manual' }, 'first');
        applied.catch(() => undefined);
        await waitFor(
          async () => {
            const rows = await sql<{ pid: number }>`
              select pid from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and query ilike '%"sync_state"%'
            `.execute(app.store.db);
            return rows.rows.length > 0;
          },
          60_000,
          'the apply to wait at the mirror',
        );
        const waitingSince = Date.now();
        await waitFor(async () => Date.now() - waitingSince > 3_000, 10_000, 'three lease lifetimes');
        meanwhile = (await second.sync(orgId)).execute({ trigger: 'manual' }, 'second');
        meanwhile.catch(() => undefined);
        // The second sync waits on the lease row the apply holds locked, not on an expired lease.
        await new Promise((r) => setTimeout(r, 500));
        expect((await storedRuns(orgId)).map((r) => r.status)).toEqual(['running']);
      } finally {
        await blocker.query('rollback');
        await blocker.end();
      }
      const firstResult = await applied;
      expect(firstResult.status).toBe('succeeded');
      // Refused, or let in once the apply committed and freed the lease: never beside it.
      const second_ = await Promise.allSettled([meanwhile]);
      const runs = await storedRuns(orgId);
      expect(runs[0]).toMatchObject({ id: firstResult.runId, status: 'succeeded' });
      if (second_[0].status === 'rejected') {
        expect(String(second_[0].reason)).toMatch(/already running \(manual sync by first\)/);
        expect(runs).toHaveLength(1);
      } else {
        const later = await app.store.db
          .selectFrom('sync_runs')
          .select('started_at')
          .where('id', '=', second_[0].value.runId)
          .executeTakeFirstOrThrow();
        expect(new Date(later.started_at).getTime()).toBeGreaterThanOrEqual(
          new Date(runs[0]!.finished_at!).getTime(),
        );
      }
    },
    120_000,
  );
});
