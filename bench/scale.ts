/**
 * `npm run bench:scale`: automatic syncs scaled out over `entrasync worker` processes on
 * PostgreSQL, through 1, 2 and 4 workers. Every organization is its own emulated tenant (in this
 * process) behind 20 ms of latency. Two modes:
 *
 * - `steady` (default): the hourly syncs of organizations that are already in step. 1,000
 *   organizations of 500 users are first synced once (setup, timed on its own line); then, per
 *   worker count, a *changes* round — every tenant changes by its own seeded share of 0–1 %
 *   (some exactly 0) and every organization falls due, as the hourly schedule would make it —
 *   and a *no-change* round (nothing changed, all due again). Prints organizations per minute,
 *   the workers' CPU seconds per sync, PostgreSQL's and this process's CPU, and database round
 *   trips per sync counted by a proxy between the workers and PostgreSQL (bench/pg-counter.ts).
 * - `first`: N organizations (default 200) of 2,000 users, each round on a fresh database, so
 *   every sync is a first full sync.
 *
 * Not a test; docs/performance.md ("Scale-out") records results.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { type JobsHandle, startJobs } from '../src/jobs/index.js';
import { type App, openApp } from '../src/services/app.js';
import { systemRuntime } from '../src/services/clock.js';
import { compiled } from './compiled.js';
import { createDatabase, type PostgresServer, postgresServer } from './databases.js';
import { Worker } from './ipc.js';
import type { CounterCounts, RoundTrips, StatementCounts } from './pg-counter.js';
import { cpuSecondsOf, postgresCpuSeconds, postmasterOf } from './proc-cpu.js';
import { changeCount, changeTenant, hourlyShare, type TenantChanges } from './steady-changes.js';

const MAIN = resolve(import.meta.dirname, '../src/cli/main.ts');
const USAGE = `usage: npm run bench:scale -- [--mode steady|first] [--orgs N] [--users N] [--groups N]
       [--latency-ms 20] [--workers 1,2,4] [--concurrency 1] [--poll-seconds 0.5]
  steady (default): --orgs 1000 --users 500 --groups 10 [--max-change 0.01] [--unchanged 0.2]
                    [--seed 1] [--idle-seconds 10] [--statements]
  first:            --orgs 200 --users 2000 --groups 40`;

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'steady' },
    orgs: { type: 'string' },
    users: { type: 'string' },
    groups: { type: 'string' },
    'latency-ms': { type: 'string', default: '20' },
    workers: { type: 'string', default: '1,2,4' },
    concurrency: { type: 'string', default: '1' },
    'poll-seconds': { type: 'string', default: '0.5' },
    'max-change': { type: 'string', default: '0.01' },
    unchanged: { type: 'string', default: '0.2' },
    seed: { type: 'string', default: '1' },
    'idle-seconds': { type: 'string', default: '10' },
    statements: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.mode !== 'steady' && values.mode !== 'first') {
  console.error(`--mode must be steady or first\n${USAGE}`);
  process.exit(2);
}
const steady = values.mode === 'steady';
const orgCount = Number(values.orgs ?? (steady ? 1000 : 200));
const users = Number(values.users ?? (steady ? 500 : 2000));
const groups = Number(values.groups ?? (steady ? 10 : 40));
const latencyMs = Number(values['latency-ms']);
const workerCounts = values.workers.split(',').map(Number);
const concurrency = Number(values.concurrency);
const pollSeconds = values['poll-seconds'];
const maxChange = Number(values['max-change']);
const unchangedShare = Number(values.unchanged);
const seed = Number(values.seed);
const idleSeconds = Number(values['idle-seconds']);
const listStatements = values.statements;

const HOUR_MS = 3_600_000;

/** A running `entrasync worker` process. */
interface WorkerProcess {
  child: ChildProcess;
  pid: number;
}

/** Spawns one `entrasync worker` process; resolves once it says its jobs started. */
function spawnWorker(env: Record<string, string>): Promise<WorkerProcess> {
  return new Promise((resolvePromise, reject) => {
    // node itself runs the worker, compiled as it ships, so the pid's CPU is the worker's.
    const child = spawn(process.execPath, [compiled(MAIN), 'worker', '--concurrency', String(concurrency)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      if (out.includes('"jobs started"')) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolvePromise({ child, pid: child.pid! });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited early (${code}): ${out.slice(-2000)}`)));
  });
}

async function stopWorkers(workers: WorkerProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      ({ child }) =>
        new Promise((r) => {
          child.removeAllListeners('exit');
          child.once('exit', r);
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** The workers' environment: the database (maybe through the counting proxy), a quick poll. */
function workerEnv(dbEnv: Record<string, string>, databaseUrl = dbEnv.DATABASE_URL!): Record<string, string> {
  return {
    ...dbEnv,
    DATABASE_URL: databaseUrl,
    ENTRASYNC_WORKER_POLL_SECONDS: pollSeconds,
    ENTRASYNC_JOB_TIMEOUT_SECONDS: '900',
    LOG_LEVEL: 'info',
  };
}

async function startTenants(stateDir: string): Promise<Emulator[]> {
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
  return emulators;
}

/** Creates an organization per tenant and connects it (every switch of what/how on). */
async function connectOrganizations(app: App, emulators: Emulator[], frequencyHours: number): Promise<void> {
  for (const [i, emu] of emulators.entries()) {
    const [first, second] = emu.info.tenantDomains as [string, string];
    const org = await app.orgs.create({ name: `Scale ${i}`, domains: [first, second] }, 'bench');
    const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
    await app.entraSettings(org.id).set(
      {
        tenant: first,
        clientId: syncApp.clientId,
        clientSecret: syncApp.clientSecret,
        frequencyHours,
        how: {
          addUsers: true,
          updateUsers: true,
          addGroups: true,
          updateGroups: true,
          removeUsers: true,
          removeGroups: true,
        },
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'bench',
    );
    emu.resetStats();
  }
}

/**
 * Waits until `total` runs have finished (all rounds so far), checking every 200 ms. Fails loudly
 * on a failed or held run, and when no run finishes for two minutes (a job skipped or lost).
 */
async function waitForRuns(app: App, total: number): Promise<void> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const row = await sql<{ done: string; failed: string; held: string }>`
      select count(*) filter (where status in ('succeeded', 'completed_with_conflicts')) as done,
             count(*) filter (where status = 'failed') as failed,
             count(*) filter (where status = 'held') as held
      from sync_runs`.execute(app.store.db);
    const done = Number(row.rows[0]!.done);
    const failed = Number(row.rows[0]!.failed);
    const held = Number(row.rows[0]!.held);
    if (failed > 0) throw new Error(`${failed} syncs failed`);
    if (held > 0) throw new Error(`${held} syncs held by the deletion safeguard`);
    if (done >= total) return;
    if (done !== last) {
      last = done;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > 120_000) {
      throw new Error(`stuck at ${done} of ${total} finished runs for two minutes`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Ticks the scheduler once: every organization must be enqueued. */
async function enqueueAll(jobs: JobsHandle): Promise<void> {
  const tick = await jobs.scheduler!.tick();
  if (tick.enqueued.length !== orgCount) throw new Error(`enqueued ${tick.enqueued.length} of ${orgCount}`);
}

// ————————————————————————————————————————— first syncs —————————————————————————————————————————

async function firstSyncRounds(pg: PostgresServer, emulators: Emulator[]): Promise<void> {
  const results: { workers: number; seconds: number; orgsPerMinute: number; requests: number }[] = [];
  const databases: Awaited<ReturnType<typeof createDatabase>>[] = [];
  for (const workers of workerCounts) {
    const db = await createDatabase('postgres', pg);
    const app = await openApp(loadConfig(db.env));
    await connectOrganizations(app, emulators, 24);
    const env = workerEnv(db.env);
    const children = await Promise.all(Array.from({ length: workers }, () => spawnWorker(env)));
    // The scheduler runs here, once: every organization is due, so one tick enqueues them all.
    const jobs = await startJobs(
      app,
      { scheduler: true, worker: false },
      { config: loadConfig(env, false).jobs, logger: pino({ level: 'warn' }), autoTick: false },
    );
    const t0 = performance.now();
    await enqueueAll(jobs);
    await waitForRuns(app, orgCount);
    const seconds = (performance.now() - t0) / 1000;
    const requests = emulators.reduce((n, e) => n + e.stats().requests, 0);
    results.push({ workers, seconds, orgsPerMinute: (orgCount / seconds) * 60, requests });
    console.log(
      `${workers} worker(s): ${orgCount} organizations in ${seconds.toFixed(1)} s → ${((orgCount / seconds) * 60).toFixed(1)} orgs/min (${requests} Graph requests)`,
    );
    await jobs.stop();
    await stopWorkers(children);
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
  await new Promise((r) => setTimeout(r, 2000));
  for (const db of databases) await db.drop();
}

// ————————————————————————————————————————— steady state ————————————————————————————————————————

/** pg-boss names its connections so; the product's own pool sends no application_name. */
const QUEUE_APP = 'entrasync-jobs';

/** What one round measured. */
interface Round {
  workers: number;
  kind: 'changes' | 'no change';
  syncs: number;
  /** Tenants that changed, and their changes (emulator side). */
  changedTenants: number;
  changes: number;
  /** Changes the runs applied, and runs that applied none. */
  applied: number;
  appliedNothing: number;
  seconds: number;
  meanSyncMs: number;
  /** CPU seconds in the round: all workers, PostgreSQL (null: not measurable), this process, the proxy. */
  workerCpu: number;
  postgresCpu: number | null;
  benchCpu: number;
  /** Share of the round this process's event loop was busy (1: saturated, a core's worth). */
  benchLoop: number;
  proxyCpu: number;
  /** Round trips of the product's own connections, of pg-boss's. */
  product: RoundTrips;
  queue: RoundTrips;
  graphRequests: number;
  /** Of those, token requests (the rest go to Graph's /v1.0). */
  tokenRequests: number;
}

/** Round trips per second of workers with an empty queue. */
interface Idle {
  workers: number;
  queuePerSecond: number;
  productPerSecond: number;
}

/** Everything a round's figures are differences of. */
interface Reading {
  at: number;
  workerCpu: number;
  postgresCpu: number | null;
  benchCpu: NodeJS.CpuUsage;
  loop: ReturnType<typeof performance.eventLoopUtilization>;
  proxyCpu: number;
}

const sumTrips = (counts: CounterCounts, pick: (app: string) => boolean): RoundTrips => {
  const sum: RoundTrips = { connections: 0, syncs: 0, queries: 0 };
  for (const [app, c] of Object.entries(counts)) {
    if (!pick(app)) continue;
    sum.connections += c.connections;
    sum.syncs += c.syncs;
    sum.queries += c.queries;
  }
  return sum;
};
const trips = (r: RoundTrips) => r.syncs + r.queries;

async function steadyState(pg: PostgresServer, emulators: Emulator[]): Promise<void> {
  const db = await createDatabase('postgres', pg);
  const app = await openApp(loadConfig(db.env));
  // Hourly, the shortest schedule: the one whose syncs must be cheapest.
  await connectOrganizations(app, emulators, 1);

  // The workers reach PostgreSQL through the counting proxy; this process connects directly.
  const counter = Worker.start('./pg-counter.ts');
  const target = new URL(db.env.DATABASE_URL!);
  const proxy = await counter.call<{ port: number }>('start', {
    host: target.hostname,
    port: Number(target.port || 5432),
  });
  const proxyPid = await counter.call<number>('pid');
  const viaProxy = new URL(target);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  const env = workerEnv(db.env, viaProxy.toString());
  const counts = (reset: boolean) => counter.call<CounterCounts>('counts', { reset });

  const backend = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(app.store.db);
  const postmaster = postmasterOf(backend.rows[0]!.pid);
  if (postmaster === null || postgresCpuSeconds(postmaster) === null)
    console.log('PostgreSQL is not a local process: its CPU is not measured');

  // The scheduler's clock runs an hour (and a second) ahead, so at every tick each organization's
  // last run is an hour old: all fall due, as they would an hour later. The workers keep real time.
  const anHourLater = { now: () => new Date(Date.now() + HOUR_MS + 1000), newId: systemRuntime.newId };
  const schedulerApp = await openApp(loadConfig(db.env), anHourLater);
  const jobs = await startJobs(
    schedulerApp,
    { scheduler: true, worker: false },
    { config: loadConfig(env, false).jobs, logger: pino({ level: 'warn' }), autoTick: false },
  );

  let runsSoFar = 0;
  const read = (workers: WorkerProcess[]): Reading => ({
    at: performance.now(),
    workerCpu: cpuSecondsOf(workers.map((w) => w.pid)),
    postgresCpu: postmaster === null ? null : postgresCpuSeconds(postmaster),
    benchCpu: process.cpuUsage(),
    loop: performance.eventLoopUtilization(),
    proxyCpu: cpuSecondsOf([proxyPid]),
  });

  /** Enqueues every organization, waits for the workers to drain the queue, and measures it. */
  async function round(
    workers: WorkerProcess[],
    kind: Round['kind'],
    changes: TenantChanges[],
  ): Promise<Round> {
    for (const e of emulators) e.resetStats();
    await counts(true);
    const startedIso = new Date().toISOString();
    const before = read(workers);
    await enqueueAll(jobs);
    runsSoFar += orgCount;
    await waitForRuns(app, runsSoFar);
    const after = read(workers);
    const trafficByApp = await counts(false);
    const seconds = (after.at - before.at) / 1000;
    const bench = process.cpuUsage(before.benchCpu);
    const runs = await sql<{ summary: string; ms: number }>`
      select summary, extract(epoch from (finished_at::timestamptz - started_at::timestamptz)) * 1000 as ms
      from sync_runs where started_at >= ${startedIso}`.execute(app.store.db);
    if (runs.rows.length !== orgCount)
      throw new Error(`${runs.rows.length} runs in the round, not ${orgCount}`);
    let applied = 0;
    let appliedNothing = 0;
    for (const r of runs.rows) {
      const summary = (typeof r.summary === 'string' ? JSON.parse(r.summary) : r.summary) as {
        applied: Record<string, number>;
      };
      const n = Object.values(summary.applied).reduce((a, b) => a + b, 0);
      applied += n;
      if (n === 0) appliedNothing++;
    }
    return {
      workers: workers.length,
      kind,
      syncs: orgCount,
      changedTenants: changes.filter((c) => changeCount(c) > 0).length,
      changes: changes.reduce((n, c) => n + changeCount(c), 0),
      applied,
      appliedNothing,
      seconds,
      meanSyncMs: runs.rows.reduce((n, r) => n + Number(r.ms), 0) / orgCount,
      workerCpu: after.workerCpu - before.workerCpu,
      postgresCpu:
        after.postgresCpu === null || before.postgresCpu === null
          ? null
          : after.postgresCpu - before.postgresCpu,
      benchCpu: (bench.user + bench.system) / 1e6,
      benchLoop: performance.eventLoopUtilization(after.loop, before.loop).utilization,
      proxyCpu: after.proxyCpu - before.proxyCpu,
      product: sumTrips(trafficByApp, (a) => a !== QUEUE_APP),
      queue: sumTrips(trafficByApp, (a) => a === QUEUE_APP),
      graphRequests: emulators.reduce((n, e) => n + e.stats().requests, 0),
      tokenRequests: emulators.reduce(
        (n, e) =>
          n +
          Object.entries(e.stats().byPath)
            // As bench/emulator-worker.ts: Graph paths hold /v1.0/, requests inside a $batch say so.
            .filter(([path]) => !path.includes(' /v1.0/') && !path.endsWith(' ($batch)'))
            .reduce((m, [, c]) => m + c, 0),
        0,
      ),
    };
  }

  // Setup: the first full sync of every organization, through the most workers measured.
  const setupWorkers = Math.max(...workerCounts);
  {
    const workers = await Promise.all(Array.from({ length: setupWorkers }, () => spawnWorker(env)));
    const t0 = performance.now();
    await enqueueAll(jobs);
    runsSoFar += orgCount;
    await waitForRuns(app, runsSoFar);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `setup: first full sync of ${orgCount} organizations through ${setupWorkers} worker(s) in ${seconds.toFixed(1)} s (${((orgCount / seconds) * 60).toFixed(1)} orgs/min)`,
    );
    await stopWorkers(workers);
  }

  const rounds: Round[] = [];
  const idle: Idle[] = [];
  const shares = emulators.map((_, i) => hourlyShare(seed, i, unchangedShare, maxChange));
  for (const [r, count] of workerCounts.entries()) {
    const workers = await Promise.all(Array.from({ length: count }, () => spawnWorker(env)));
    // Idle first: what the workers cost PostgreSQL with nothing to do (pg-boss polling, supervision).
    await counts(true);
    await new Promise((done) => setTimeout(done, idleSeconds * 1000));
    const quiet = await counts(false);
    idle.push({
      workers: count,
      queuePerSecond: trips(sumTrips(quiet, (a) => a === QUEUE_APP)) / idleSeconds,
      productPerSecond: trips(sumTrips(quiet, (a) => a !== QUEUE_APP)) / idleSeconds,
    });

    // Each worker count changes every tenant by the same share; a new seed picks new objects.
    const changes = emulators.map((e, i) =>
      changeTenant(e, shares[i]!, seed * 1_000_003 + (r + 1) * 10_007 + i),
    );
    rounds.push(await round(workers, 'changes', changes));
    report(rounds.at(-1)!);
    rounds.push(await round(workers, 'no change', []));
    report(rounds.at(-1)!);
    if (listStatements && r === 0) printStatements(await counter.call<StatementCounts>('statements'));
    await stopWorkers(workers);
  }

  printTables(rounds, idle);
  await jobs.stop();
  await schedulerApp.close();
  await app.close();
  await counter.stop();
  await new Promise((r) => setTimeout(r, 2000));
  await db.drop();
}

/** What the round trips of the no-change round were: each statement's count per sync. */
function printStatements(statements: StatementCounts): void {
  for (const [app, byText] of Object.entries(statements)) {
    console.log(`\nStatements per no-change sync, ${app === '' ? 'product' : app}:`);
    const sorted = Object.entries(byText).sort((a, b) => b[1] - a[1]);
    for (const [text, n] of sorted) console.log(`  ${(n / orgCount).toFixed(2).padStart(6)}  ${text}`);
  }
}

function report(r: Round): void {
  console.log(
    `${r.workers} worker(s), ${r.kind}: ${r.syncs} syncs in ${r.seconds.toFixed(1)} s → ${((r.syncs / r.seconds) * 60).toFixed(0)} orgs/min; ` +
      `${r.changedTenants} tenants changed (${r.changes} changes, ${r.applied} applied, ${r.appliedNothing} runs applied nothing); ` +
      `mean sync ${r.meanSyncMs.toFixed(0)} ms; CPU s/sync workers ${(r.workerCpu / r.syncs).toFixed(3)}, ` +
      `PostgreSQL ${r.postgresCpu === null ? 'n/a' : (r.postgresCpu / r.syncs).toFixed(3)}; ` +
      `round trips/sync product ${(trips(r.product) / r.syncs).toFixed(1)}, pg-boss ${(trips(r.queue) / r.syncs).toFixed(1)}; ` +
      `requests/sync to the emulators ${(r.graphRequests / r.syncs).toFixed(1)} (token ${(r.tokenRequests / r.syncs).toFixed(1)})`,
  );
}

function printTables(rounds: Round[], idle: Idle[]): void {
  const f = (n: number, d = 1) => n.toFixed(d);
  const base = (kind: Round['kind']) => rounds.find((r) => r.kind === kind && r.workers === workerCounts[0])!;
  console.log(
    '\n| workers | round | wall time (s) | orgs / minute | speed-up over 1 | mean sync (ms) | workers busy | worker CPU s / sync | PostgreSQL CPU s / sync |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rounds) {
    const pgCpu = r.postgresCpu === null ? 'n/a' : f(r.postgresCpu / r.syncs, 4);
    // The share of the round the workers spent inside a sync (the rest: queue, polling, idle).
    const busy = (r.meanSyncMs * r.syncs) / 1000 / (r.seconds * r.workers * concurrency);
    console.log(
      `| ${r.workers} | ${r.kind} | ${f(r.seconds)} | ${f((r.syncs / r.seconds) * 60, 0)} | ${f(base(r.kind).seconds / r.seconds, 2)}× | ${f(r.meanSyncMs, 0)} | ${f(busy * 100, 0)} % | ${f(r.workerCpu / r.syncs, 4)} | ${pgCpu} |`,
    );
  }
  console.log(
    '\n| workers | round | cores used: workers, PostgreSQL, bench process, proxy | bench event loop busy | DB round trips / sync: product (Sync + Query), pg-boss | DB connections opened: product, pg-boss | Graph requests / sync |',
  );
  console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rounds) {
    const cores = [r.workerCpu, r.postgresCpu ?? Number.NaN, r.benchCpu, r.proxyCpu]
      .map((c) => f(c / r.seconds, 2))
      .join(', ');
    console.log(
      `| ${r.workers} | ${r.kind} | ${cores} | ${f(r.benchLoop * 100, 0)} % | ${f(trips(r.product) / r.syncs)} (${r.product.syncs} + ${r.product.queries}), ${f(trips(r.queue) / r.syncs, 2)} | ${r.product.connections}, ${r.queue.connections} | ${f(r.graphRequests / r.syncs)} |`,
    );
  }
  console.log("\nIdle workers (queue empty, before each worker count's rounds):");
  for (const i of idle) {
    // Hourly syncs leave workers idle most of the hour: their polling, spread over the hour's syncs.
    const hour = i.queuePerSecond * 3600;
    console.log(
      `  ${i.workers} worker(s): pg-boss ${f(i.queuePerSecond)} round trips / s, product ${f(i.productPerSecond)} / s; an idle hour of it = ${f(hour, 0)} round trips, ${f(hour / orgCount)} per organization of ${orgCount} synced hourly`,
    );
  }
}

async function main() {
  const header = steady
    ? `steady state, ${orgCount} organizations × ${users} users (${groups} groups), 0–${maxChange * 100} % changed an hour (${unchangedShare * 100} % exactly 0), seed ${seed}`
    : `first syncs, ${orgCount} organizations × ${users} users (${groups} groups)`;
  console.log(
    `bench:scale — ${header}, ${latencyMs} ms latency, workers ${workerCounts.join('/')} × concurrency ${concurrency}, poll ${pollSeconds} s, ${cpus().length} CPUs`,
  );
  const pg = await postgresServer();
  console.log(`PostgreSQL: ${pg.description}`);
  const stateDir = mkdtempSync(join(tmpdir(), 'entrasync-scale-ca-'));
  const emulators = await startTenants(stateDir);
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(', ');
  // The machine may be shared: its load before and after says how much the figures can be trusted.
  console.log(`load averages (1, 5, 15 min) before: ${load()}`);
  if (steady) await steadyState(pg, emulators);
  else await firstSyncRounds(pg, emulators);
  console.log(`load averages (1, 5, 15 min) after: ${load()}`);
  for (const e of emulators) await e.close();
  rmSync(stateDir, { recursive: true, force: true });
  await pg.stop();
}

await main();
