import { type ChildProcess, spawn } from 'node:child_process';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { runError } from '../../src/services/run-errors.js';
import { cliArgs } from '../support/cli-build.js';
import { addUsers, connectOrg, createJobsApp, runsOf, waitFor } from './support.js';

/** A running `entrasync worker` child process and the JSON log lines it printed. */
interface Worker {
  child: ChildProcess;
  lines: () => Array<Record<string, unknown>>;
  /** Everything the process wrote, for failure messages. */
  output: () => string;
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
    const child = spawn(process.execPath, cliArgs(['worker', ...args]), {
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
      output: () => out,
      // Complete lines only: the last one may still be arriving.
      lines: () =>
        out
          .split('\n')
          .slice(0, -1)
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
    const a = startWorker(['--scheduler']);
    const b = startWorker(['--scheduler']);
    const c = startWorker([]);
    // All three polling before anything is due, so a slow start (tsx, a loaded machine) cannot
    // leave one worker without a share.
    await waitFor(
      async () => {
        // A worker that died at start would make this wait in vain: say why at once.
        const dead = [a, b, c].find((w) => w.child.exitCode !== null);
        if (dead)
          throw new Error(
            `a worker exited (${dead.child.exitCode}) before starting:\n${dead.output().slice(-3000)}`,
          );
        return [a, b, c].every((w) => w.lines().some((l) => l.msg === 'jobs started'));
      },
      120_000,
      'three workers to start',
    ).catch((error: Error) => {
      const tails = [a, b, c].map((w, i) => `--- worker ${i} ---\n${w.output().slice(-1500)}`).join('\n');
      throw new Error(`${error.message}\n${tails}`);
    });
    const orgs: string[] = [];
    for (let i = 0; i < 50; i++) {
      addUsers(emu, `w${i}.example`, 2);
      orgs.push(await connectOrg(app, emu, `w${i}.example`, { frequencyHours: 1 }));
    }
    const succeeded = async () => {
      const rows = await sql<{ n: string }>`
        select count(distinct org_id) as n from sync_runs where status = 'succeeded'
      `.execute(app.store.db);
      return Number(rows.rows[0]!.n);
    };
    await waitFor(async () => (await succeeded()) === 50, 120_000, '50 organizations synced');
    // A few more scheduler ticks (1 s apart): nothing is due again for an hour. Waiting checks an absence, so it is a fixed pause.
    await new Promise((r) => setTimeout(r, 3000));
    for (const orgId of orgs) {
      const runs = await runsOf(app, orgId);
      expect(runs.map((r) => [r.trigger, r.status])).toEqual([['scheduled', 'succeeded']]);
    }
    const finished = (w: Worker) => w.lines().filter((l) => l.msg === 'automatic sync finished').length;
    // A run is recorded as succeeded just before its worker logs it.
    await waitFor(
      async () => [a, b, c].reduce((n, w) => n + finished(w), 0) === 50,
      10_000,
      'the workers to log 50 finished syncs',
    );
    const finishedBy = [a, b, c].map(finished);
    // The work is shared: every worker took some.
    for (const n of finishedBy) expect(n).toBeGreaterThan(0);
    // Every line about a run says which run and organization, and no line carries a secret.
    for (const w of [a, b, c]) {
      for (const line of w.lines().filter((l) => l.runId !== undefined)) expect(line.org).toBeTruthy();
    }
    const secret = emu.info.apps.find((x) => x.displayName === 'entrasync-sync')!.clientSecret;
    for (const w of [a, b, c]) expect(JSON.stringify(w.lines())).not.toContain(secret);
  }, 240_000);

  it('a worker killed mid-apply leaves the directory untouched; another worker completes the sync', async () => {
    addUsers(emu, 'big.example', 5000);
    const orgId = await connectOrg(app, emu, 'big.example', { frequencyHours: 1 });
    const count = async (table: 'users' | 'addresses') =>
      Number(
        (
          await sql<{
            n: string;
          }>`select count(*) as n from ${sql.table(table)} where org_id = ${orgId}`.execute(app.store.db)
        ).rows[0]!.n,
      );
    // Hold the apply open instead of racing it: with sync_state locked against writes, the worker
    // reads and plans (reads pass) but its apply transaction stops at the cursor write, after
    // the users and addresses are inserted and before the commit. So the kill lands mid-apply on
    // a fast machine and on a loaded one alike.
    const blocker = new pg.Client({ connectionString: env.DATABASE_URL });
    await blocker.connect();
    let victimPid: number;
    try {
      await blocker.query('begin');
      await blocker.query('lock table sync_state in exclusive mode');
      const victim = startWorker(['--scheduler']);
      victimPid = await waitFor(
        async () => {
          const rows = await sql<{ pid: number }>`
            select a.pid from pg_stat_activity a
            where a.datname = current_database() and a.wait_event_type = 'Lock'
              and a.xact_start is not null and a.query ilike '%"sync_state"%'
              and exists (
                select 1 from pg_locks l join pg_class c on c.oid = l.relation
                where l.pid = a.pid and c.relname = 'users' and l.mode = 'RowExclusiveLock'
              )
          `.execute(app.store.db);
          return rows.rows[0]?.pid;
        },
        120_000,
        'the apply to write the users and wait at the cursor',
      );
      const exited = new Promise((r) => victim.child.once('exit', r));
      victim.child.kill('SIGKILL');
      await exited;
    } finally {
      await blocker.query('rollback');
      await blocker.end();
    }
    // The dead client's backend finds its socket closed and PostgreSQL rolls its transaction back.
    await waitFor(
      async () => {
        const rows = await sql<{ n: string }>`
          select count(*) as n from pg_stat_activity where pid = ${victimPid}
        `.execute(app.store.db);
        return Number(rows.rows[0]!.n) === 0;
      },
      30_000,
      'the dead transaction to end',
    );
    expect(await count('users')).toBe(0);
    expect(await count('addresses')).toBe(0);

    // The job is retried once its expiry (ENTRASYNC_JOB_TIMEOUT_SECONDS) has passed.
    const rescuer = startWorker([]);
    await waitFor(
      async () => (await runsOf(app, orgId)).some((r) => r.status === 'succeeded'),
      120_000,
      'the retried sync',
    );
    const runs = await runsOf(app, orgId);
    expect(runs.map((r) => r.status)).toEqual(['failed', 'succeeded']);
    expect((runs[0]!.summary as { errors: unknown[] }).errors).toEqual([runError('worker_lost')]);
    expect(await count('users')).toBe(5000);
    expect(await count('addresses')).toBe(5000);
    await waitFor(
      async () => rescuer.lines().some((l) => l.msg === 'automatic sync finished' && l.org === orgId),
      10_000,
      "the rescuer's log line",
    );
  }, 300_000);
});
