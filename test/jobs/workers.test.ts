import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg, createJobsApp, runsOf, waitFor } from './support.js';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

/** A running `entrasync worker` child process and the JSON log lines it printed. */
interface Worker {
  child: ChildProcess;
  lines: () => Array<Record<string, unknown>>;
}

/**
 * Real `entrasync worker` processes sharing one PostgreSQL database through pg-boss, against
 * the emulator: the work is shared, each organization synced once, a killed worker's sync
 * completed by another.
 */
describe('entrasync worker processes on postgres', () => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let env: Record<string, string>;
  const workers: Worker[] = [];

  function startWorker(args: string[]): Worker {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'worker', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      out += d;
    });
    const worker = {
      child,
      lines: () =>
        out
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
    workers.push(worker);
    return worker;
  }

  async function stopAll() {
    for (const w of workers.splice(0)) {
      if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
      const exited = new Promise((r) => w.child.once('exit', r));
      w.child.kill('SIGTERM');
      await exited;
    }
  }

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 41 });
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp('postgres'));
    env = {
      ...db.env,
      ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1',
      ENTRASYNC_SCHEDULER_INTERVAL_SECONDS: '1',
      ENTRASYNC_WORKER_POLL_SECONDS: '0.5',
      ENTRASYNC_MAINTENANCE_INTERVAL_SECONDS: '1',
      ENTRASYNC_JOB_RETRY_DELAY_SECONDS: '1',
      ENTRASYNC_JOB_TIMEOUT_SECONDS: '15',
      LOG_LEVEL: 'info',
    };
  });
  afterEach(stopAll);
  afterAll(async () => {
    await stopAll();
    await close?.();
    await emu?.close();
  });

  it('three workers (two of them schedulers) sync 50 due organizations exactly once each', async () => {
    const orgs: string[] = [];
    for (let i = 0; i < 50; i++) {
      addUsers(emu, `w${i}.example`, 2);
      orgs.push(await connectOrg(app, emu, `w${i}.example`, { frequencyHours: 1 }));
    }
    const a = startWorker(['--scheduler']);
    const b = startWorker(['--scheduler']);
    const c = startWorker([]);
    const succeeded = async () => {
      const rows = await sql<{ n: string }>`
        select count(distinct org_id) as n from sync_runs where status = 'succeeded'
      `.execute(app.store.db);
      return Number(rows.rows[0]!.n);
    };
    await waitFor(async () => (await succeeded()) === 50, 60_000, '50 organizations synced');
    // A few more scheduler ticks: nothing is due again for an hour.
    await new Promise((r) => setTimeout(r, 3000));
    for (const orgId of orgs) {
      const runs = await runsOf(app, orgId);
      expect(runs.map((r) => [r.trigger, r.status])).toEqual([['scheduled', 'succeeded']]);
    }
    const finishedBy = [a, b, c].map(
      (w) => w.lines().filter((l) => l.msg === 'automatic sync finished').length,
    );
    expect(finishedBy.reduce((x, y) => x + y, 0)).toBe(50);
    // The work is shared: every worker took some.
    for (const n of finishedBy) expect(n).toBeGreaterThan(0);
    // Every line about a run says which run and organization, and no line carries a secret.
    for (const w of [a, b, c]) {
      for (const line of w.lines().filter((l) => l.runId !== undefined)) expect(line.org).toBeTruthy();
    }
    const secret = emu.info.apps.find((x) => x.displayName === 'entrasync-sync')!.clientSecret;
    for (const w of [a, b, c]) expect(JSON.stringify(w.lines())).not.toContain(secret);
  }, 90_000);

  it('a worker killed mid-apply leaves the directory untouched; another worker completes the sync', async () => {
    addUsers(emu, 'big.example', 5000);
    const orgId = await connectOrg(app, emu, 'big.example', { frequencyHours: 1 });
    const victim = startWorker(['--scheduler']);
    // Inside the apply transaction: an insert into the directory tables has run and not committed.
    await waitFor(
      async () => {
        const rows = await sql<{ n: string }>`
          select count(*) as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null
            and query ilike 'insert into "users"%'
        `.execute(app.store.db);
        return Number(rows.rows[0]!.n) > 0;
      },
      60_000,
      'the apply to start',
    );
    victim.child.kill('SIGKILL');
    await new Promise((r) => victim.child.once('exit', r));
    const users = async () =>
      Number(
        (
          await sql<{ n: string }>`select count(*) as n from users where org_id = ${orgId}`.execute(
            app.store.db,
          )
        ).rows[0]!.n,
      );
    const addresses = async () =>
      Number(
        (
          await sql<{ n: string }>`select count(*) as n from addresses where org_id = ${orgId}`.execute(
            app.store.db,
          )
        ).rows[0]!.n,
      );
    // PostgreSQL rolls back the dead connection's transaction: nothing half-applied.
    await waitFor(
      async () => {
        const rows = await sql<{ n: string }>`
          select count(*) as n from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid() and xact_start is not null
            and query ilike 'insert into %'
        `.execute(app.store.db);
        return Number(rows.rows[0]!.n) === 0;
      },
      10_000,
      'the dead transaction to end',
    );
    expect(await users()).toBe(0);
    expect(await addresses()).toBe(0);

    const rescuer = startWorker([]);
    await waitFor(
      async () => (await runsOf(app, orgId)).some((r) => r.status === 'succeeded'),
      60_000,
      'the retried sync',
    );
    const runs = await runsOf(app, orgId);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect((runs[0]!.summary as { errors: { code: string }[] }).errors[0]!.code).toBe('worker_lost');
    expect(await users()).toBe(5000);
    expect(await addresses()).toBe(5000);
    expect(rescuer.lines().some((l) => l.msg === 'automatic sync finished' && l.org === orgId)).toBe(true);
  }, 120_000);
});
