/**
 * `npm run bench:scale`: automatic syncs scaled out over `entrasync worker` processes on
 * PostgreSQL. N organizations (default 200), each its own emulated tenant of U users (default
 * 2,000) behind 20 ms of latency, all due at once; measured through 1, 2 and 4 workers, each
 * round on a fresh database (so every round is a first full sync). Prints organizations per
 * minute and the speed-up over one worker. Not a test; docs/performance.md records results.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { startJobs } from '../src/jobs/index.js';
import { openApp } from '../src/services/app.js';
import { createDatabase, postgresServer } from './databases.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const USAGE = `usage: npm run bench:scale -- [--orgs 200] [--users 2000] [--groups 40] [--latency-ms 20]
       [--workers 1,2,4] [--concurrency 1]`;

const { values } = parseArgs({
  options: {
    orgs: { type: 'string', default: '200' },
    users: { type: 'string', default: '2000' },
    groups: { type: 'string', default: '40' },
    'latency-ms': { type: 'string', default: '20' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '1' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const orgCount = Number(values.orgs);
const users = Number(values.users);
const groups = Number(values.groups);
const latencyMs = Number(values['latency-ms']);
const workerCounts = values.workers.split(',').map(Number);
const concurrency = Number(values.concurrency);

/** Spawns one `entrasync worker` process; resolves once it says its jobs started. */
function spawnWorker(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'worker', '--concurrency', String(concurrency)],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('"jobs started"')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolvePromise(child);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out.slice(-2000)}`)));
  });
}

async function main() {
  console.log(
    `bench:scale — ${orgCount} organizations × ${users} users (${groups} groups), ${latencyMs} ms latency, workers ${workerCounts.join('/')} × concurrency ${concurrency}, ${cpus().length} CPUs`,
  );
  const pg = await postgresServer();
  console.log(`PostgreSQL: ${pg.description}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'entrasync-scale-ca-'));
  const emulators: Emulator[] = [];
  const started = performance.now();
  for (let i = 0; i < orgCount; i++) {
    emulators.push(
      await startEmulator({
        users,
        groups,
        seed: 1,
        domainPrefix: `scale${i}`,
        stateDir,
        latencyMs,
        throttle: false,
      }),
    );
  }
  console.log(
    `${orgCount} emulated tenants started in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );

  const results: { workers: number; seconds: number; orgsPerMinute: number; requests: number }[] = [];
  const databases: Awaited<ReturnType<typeof createDatabase>>[] = [];
  for (const workers of workerCounts) {
    const db = await createDatabase('postgres', pg);
    const app = await openApp(loadConfig(db.env));
    for (const [i, emu] of emulators.entries()) {
      const [first, second] = emu.info.tenantDomains as [string, string];
      const org = await app.orgs.create({ name: `Scale ${i}`, domains: [first, second] }, 'bench');
      const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
      await app.entraSettings(org.id).set(
        {
          tenant: first,
          clientId: syncApp.clientId,
          clientSecret: syncApp.clientSecret,
          frequencyHours: 24,
          authorityHost: emu.info.authorityHost,
          graphUrl: emu.info.graphBaseUrl,
          caPem: emu.info.caPem,
        },
        { allowCustomEndpoints: true, byOperator: true },
        'bench',
      );
      emu.resetStats();
    }
    const env = {
      ...db.env,
      ENTRASYNC_WORKER_POLL_SECONDS: '0.5',
      ENTRASYNC_JOB_TIMEOUT_SECONDS: '900',
      LOG_LEVEL: 'info',
    };
    const children = await Promise.all(Array.from({ length: workers }, () => spawnWorker(env)));
    // The scheduler runs here, once: every organization is due, so one tick enqueues them all.
    const jobs = await startJobs(
      app,
      { scheduler: true, worker: false },
      { config: loadConfig(env, false).jobs, logger: pino({ level: 'warn' }), autoTick: false },
    );
    const t0 = performance.now();
    const tick = await jobs.scheduler!.tick();
    if (tick.enqueued.length !== orgCount) throw new Error(`enqueued ${tick.enqueued.length} of ${orgCount}`);
    for (;;) {
      const row = await sql<{ done: string; failed: string }>`
        select count(*) filter (where status in ('succeeded', 'completed_with_conflicts')) as done,
               count(*) filter (where status = 'failed') as failed
        from sync_runs`.execute(app.store.db);
      const done = Number(row.rows[0]!.done);
      const failed = Number(row.rows[0]!.failed);
      if (failed > 0) throw new Error(`${failed} syncs failed`);
      if (done === orgCount) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const seconds = (performance.now() - t0) / 1000;
    const requests = emulators.reduce((n, e) => n + e.stats().requests, 0);
    results.push({ workers, seconds, orgsPerMinute: (orgCount / seconds) * 60, requests });
    console.log(
      `${workers} worker(s): ${orgCount} organizations in ${seconds.toFixed(1)} s → ${((orgCount / seconds) * 60).toFixed(1)} orgs/min (${requests} Graph requests)`,
    );
    await jobs.stop();
    await Promise.all(
      children.map(
        (c) =>
          new Promise((r) => {
            c.removeAllListeners('exit');
            c.once('exit', r);
            c.kill('SIGTERM');
          }),
      ),
    );
    await app.close();
    // Dropped at the end: a force-drop now could cut a connection some pool is still closing.
    databases.push(db);
  }

  const base = results[0]!;
  console.log('\n| workers | wall time (s) | orgs / minute | speed-up over 1 |');
  console.log('| ---: | ---: | ---: | ---: |');
  for (const r of results) {
    console.log(
      `| ${r.workers} | ${r.seconds.toFixed(1)} | ${r.orgsPerMinute.toFixed(1)} | ${(base.seconds / r.seconds).toFixed(2)}× |`,
    );
  }
  for (const e of emulators) await e.close();
  await new Promise((r) => setTimeout(r, 2000));
  for (const db of databases) await db.drop();
  rmSync(stateDir, { recursive: true, force: true });
  await pg.stop();
}

await main();
