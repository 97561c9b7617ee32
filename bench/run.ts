/**
 * `npm run bench`: the workload of docs/performance.md against the emulator, on SQLite and PostgreSQL.
 * Not a test: it measures and prints one table (docs/performance.md explains it).
 *
 * Per database, with a fresh emulator (in its own process) so both databases see the same tenant:
 *   1. first full sync into an empty directory;
 *   2. a second sync with no changes (delta);
 *   3. a first sync with injected faults, into another empty directory — its directory must be
 *      identical to (1)'s;
 *   4. the baseline — the peer's strategy (Bitwarden Directory Connector's Entra reader, see
 *      bench/connectors.ts): a first sync and a no-change sync, into a third directory — also
 *      identical to (1)'s — and, with faults on, a first sync with faults into a fourth (the peer
 *      does not retry dropped connections, so that run is expected to fail, and is reported so);
 *   5. a sync after 1 % of users, groups and memberships changed (delta).
 * Every sync runs in a fresh child process, so its peak RSS is its own. Before (2) and (5) the
 * database is settled (BenchDatabase.settle): an hourly sync meets it checkpointed and vacuumed.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  type BenchDatabase,
  createDatabase,
  DATABASE_KINDS,
  type DatabaseKind,
  type DirectoryDigest,
  directoryDigest,
  type PostgresServer,
  postgresServer,
  setUpOrganization,
} from './databases.js';
import type { EmulatorCounts, EmulatorHandle, EmulatorParams, MutationSummary } from './emulator-worker.js';
import { Worker } from './ipc.js';
import type { SyncMeasurement, SyncParams } from './sync-worker.js';

const USAGE = `usage: npm run bench -- [options]
  --users <n>         users in the tenant (default 100000; 1–3 aliases each)
  --groups <n>        groups (default 10000; ~2.5 memberships per user)
  --latency-ms <ms>   emulated latency per request (default 20)
  --db <list>         sqlite,postgres (default both); PostgreSQL from BENCH_DATABASE_URL or embedded
  --quick             a 10,000-user, 1,000-group smoke run
  --fault-rate <r>    share of Graph requests failing in the fault scenario (default 0.1)
  --change <r>        share of objects changed before the delta scenario (default 0.01)
  --baseline <list>   databases to run the baseline (the peer's strategy) on (default: the first of --db; none = skip)
  --seed <n>          tenant generator seed (default 1)
  --cpu-prof <dir>    write a V8 CPU profile of every measured sync into <dir>
  --json <file>       also write the measurements as JSON`;

interface Options {
  users: number;
  groups: number;
  latencyMs: number;
  dbs: DatabaseKind[];
  faultRate: number;
  change: number;
  /** Databases the baseline (the peer's strategy) runs on. */
  baseline: DatabaseKind[];
  seed: number;
  cpuProf: string | undefined;
  json: string | undefined;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string' },
      groups: { type: 'string' },
      'latency-ms': { type: 'string' },
      db: { type: 'string' },
      quick: { type: 'boolean' },
      'fault-rate': { type: 'string' },
      change: { type: 'string' },
      baseline: { type: 'string' },
      seed: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (raw: string | undefined, fallback: number, name: string, min: number, max: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const quick = values.quick === true;
  const kinds = (flag: string, raw: string): DatabaseKind[] => {
    const list = raw.split(',').map((s) => s.trim());
    for (const db of list)
      if (!(DATABASE_KINDS as readonly string[]).includes(db))
        throw new Error(`--${flag}: unknown database '${db}'`);
    return list as DatabaseKind[];
  };
  const dbs = kinds('db', values.db ?? DATABASE_KINDS.join(','));
  // The baseline's read is the same on every database; by default it runs on the first only,
  // which keeps a full run near ten minutes.
  const baseline = values.baseline === 'none' ? [] : kinds('baseline', values.baseline ?? dbs[0]!);
  return {
    users: Math.round(num(values.users, quick ? 10_000 : 100_000, 'users', 10, 5_000_000)),
    groups: Math.round(num(values.groups, quick ? 1_000 : 10_000, 'groups', 1, 1_000_000)),
    latencyMs: num(values['latency-ms'], 20, 'latency-ms', 0, 10_000),
    dbs,
    faultRate: num(values['fault-rate'], 0.1, 'fault-rate', 0, 0.5),
    change: num(values.change, 0.01, 'change', 0.0001, 0.5),
    baseline,
    seed: Math.round(num(values.seed, 1, 'seed', 0, 2 ** 31 - 1)),
    cpuProf: values['cpu-prof'],
    json: values.json,
  };
}

type ScenarioName =
  | 'first'
  | 'no-change'
  | 'change'
  | 'faults'
  | 'peer-first'
  | 'peer-no-change'
  | 'peer-faults';

/** One row of the table. */
interface Row {
  /** The scenario as the tables name it (with this run's shares). */
  name: string;
  scenario: ScenarioName;
  db: DatabaseKind;
  readS: number;
  planS: number;
  applyS: number;
  totalS: number;
  requests: number;
  retries: number;
  minimum: number;
  /** Mailbox purposes: how many the read needed, its requests for them (in `requests`), and their span. */
  purposes: { needed: number; requests: number; ms: number } | undefined;
  peakRssMiB: number;
  /** Our total as a share of the peer's strategy's in the same situation. */
  vsBaseline: number | undefined;
  note: string;
  emulator: EmulatorCounts;
  applied: Record<string, number>;
}

/** A share as the tables print it: 0.01 → "1 %", 0.001 → "0.1 %". */
const percent = (share: number) => `${Number((share * 100).toPrecision(3))} %`;

/** A scenario's name in the tables, with the shares this run used. */
function label(scenario: ScenarioName, opts: Pick<Options, 'change' | 'faultRate'>): string {
  const faults = `first sync, ${percent(opts.faultRate)} faults`;
  const names: Record<ScenarioName, string> = {
    first: 'first full sync',
    'no-change': 'no-change sync (delta)',
    change: `${percent(opts.change)}-change sync (delta)`,
    faults,
    'peer-first': "peer's strategy: first sync",
    'peer-no-change': "peer's strategy: no-change sync",
    'peer-faults': `peer's strategy: ${faults}`,
  };
  return names[scenario];
}

const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** Runs one sync in a fresh process and reads the emulator's counters around it. */
async function measure(
  emulator: Worker,
  db: BenchDatabase,
  orgId: string,
  strategy: SyncParams['strategy'],
  opts: Options,
  /** Return a failed run instead of throwing (the peer's strategy under faults). */
  mayFail = false,
): Promise<{ m: SyncMeasurement; counts: EmulatorCounts }> {
  await emulator.call('resetStats');
  const execArgv = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProf}`] : [];
  const worker = Worker.start('./sync-worker.ts', {}, execArgv);
  try {
    const m = await worker.call<SyncMeasurement>('sync', {
      env: db.env,
      orgId,
      strategy,
    } satisfies SyncParams);
    if (m.run.status !== 'succeeded' && !mayFail) {
      throw new Error(`sync ${m.run.status}: ${JSON.stringify(m.run.errors)}`);
    }
    return { m, counts: await emulator.call<EmulatorCounts>('counts') };
  } finally {
    await worker.stop();
  }
}

function row(
  scenario: ScenarioName,
  shares: Pick<Options, 'change' | 'faultRate'>,
  kind: DatabaseKind,
  { m, counts }: { m: SyncMeasurement; counts: EmulatorCounts },
  minimum: number,
  note = '',
): Row {
  const t = m.run.timings;
  const r: Row = {
    name: label(scenario, shares),
    scenario,
    db: kind,
    readS: t.readMs / 1000,
    planS: t.planMs / 1000,
    applyS: t.applyMs / 1000,
    totalS: m.totalMs / 1000,
    requests: m.read?.requests ?? counts.graph,
    retries: m.read?.retries ?? 0,
    minimum,
    purposes: m.read?.purposes,
    peakRssMiB: m.peakRssMiB,
    vsBaseline: undefined,
    note,
    emulator: counts,
    applied: m.run.applied,
  };
  log(
    `${r.name} on ${kind}: ${r.totalS.toFixed(1)} s (read ${r.readS.toFixed(1)}, plan ${r.planS.toFixed(1)}, apply ${r.applyS.toFixed(1)}), ` +
      `${r.requests} requests (minimum ${minimum}; ${purposeText(r.purposes)}), ${r.peakRssMiB.toFixed(0)} MiB${note ? `, ${note}` : ''}`,
  );
  return r;
}

/** '58 purposes in 3 requests, 0.21 s' */
function purposeText(p: Row['purposes']): string {
  if (!p) return 'purposes not recorded';
  return `${p.needed} purposes in ${p.requests} requests, ${(p.ms / 1000).toFixed(2)} s`;
}

function same(a: DirectoryDigest, b: DirectoryDigest): boolean {
  return a.sha256 === b.sha256;
}

function describe(d: DirectoryDigest): string {
  return `${d.users} users, ${d.groups} groups, ${d.memberships} memberships, sha256 ${d.sha256.slice(0, 12)}`;
}

/** Everything measured on one database. */
async function benchDatabase(
  kind: DatabaseKind,
  opts: Options,
  server: PostgresServer | undefined,
): Promise<{
  rows: Row[];
  digests: Record<string, DirectoryDigest>;
  failures: string[];
  mutation: MutationSummary;
}> {
  const rows: Row[] = [];
  const failures: string[] = [];
  const digests: Record<string, DirectoryDigest> = {};
  const params: EmulatorParams = {
    users: opts.users,
    groups: opts.groups,
    seed: opts.seed,
    latencyMs: opts.latencyMs,
    faultRetryAfter: 1,
  };
  const started = performance.now();
  // The emulator holds the whole tenant and is not what is measured: a million users outgrow
  // V8's default heap (about 4 GiB here), so it gets room to spare.
  const emulator = Worker.start('./emulator-worker.ts', { BENCH_EMULATOR: JSON.stringify(params) }, [
    '--max-old-space-size=12288',
  ]);
  const dbs: BenchDatabase[] = [];
  const fresh = async () => {
    const db = await createDatabase(kind, server);
    dbs.push(db);
    return db;
  };
  try {
    const emu = await emulator.call<EmulatorHandle>('start');
    log(
      `${kind}: emulator ready in ${((performance.now() - started) / 1000).toFixed(1)} s — ${emu.users} users, ` +
        `${emu.groups} groups, ${emu.memberships} memberships, ${emu.purposes} mailbox purposes to read; ` +
        `full read minimum ${emu.fullMinimum} requests`,
    );

    const main = await fresh();
    const orgId = await setUpOrganization(main, emu);
    const first = row(
      'first',
      opts,
      kind,
      await measure(emulator, main, orgId, 'delta', opts),
      emu.fullMinimum,
    );
    rows.push(first);
    digests.first = await directoryDigest(main, orgId);
    log(`${kind}: directory after the first sync: ${describe(digests.first)}`);

    log(`${kind}: database settled in ${await main.settle()} ms`);
    rows.push(
      row('no-change', opts, kind, await measure(emulator, main, orgId, 'delta', opts), emu.noChangeMinimum),
    );

    if (opts.faultRate > 0) {
      const faulty = await fresh();
      const faultyOrg = await setUpOrganization(faulty, emu);
      await emulator.call('setFaultRate', { rate: opts.faultRate });
      let measured: Awaited<ReturnType<typeof measure>>;
      try {
        measured = await measure(emulator, faulty, faultyOrg, 'delta', opts);
      } finally {
        await emulator.call('setFaultRate', { rate: 0 });
      }
      digests.faults = await directoryDigest(faulty, faultyOrg);
      const identical = same(digests.faults, digests.first);
      if (!identical)
        failures.push(`${kind}: the directory after faults differs: ${describe(digests.faults)}`);
      rows.push(
        row(
          'faults',
          opts,
          kind,
          measured,
          emu.fullMinimum,
          `${measured.counts.faults} faults injected, ${identical ? 'directory identical' : 'DIRECTORY DIFFERS'}`,
        ),
      );
    }

    if (opts.baseline.includes(kind)) {
      const peer = await fresh();
      const peerOrg = await setUpOrganization(peer, emu);
      const pFirst = row(
        'peer-first',
        opts,
        kind,
        await measure(emulator, peer, peerOrg, 'peer', opts),
        emu.fullMinimum,
      );
      digests.peer = await directoryDigest(peer, peerOrg);
      const identical = same(digests.peer, digests.first);
      if (!identical)
        failures.push(`${kind}: the directory of the peer's strategy differs: ${describe(digests.peer)}`);
      pFirst.note = identical ? 'directory identical' : 'DIRECTORY DIFFERS';
      const pSecond = row(
        'peer-no-change',
        opts,
        kind,
        await measure(emulator, peer, peerOrg, 'peer', opts),
        emu.noChangeMinimum,
      );
      rows.push(pFirst, pSecond);
      first.vsBaseline = first.totalS / pFirst.totalS;
      rows.find((r) => r.scenario === 'no-change')!.vsBaseline =
        rows.find((r) => r.scenario === 'no-change')!.totalS / pSecond.totalS;

      if (opts.faultRate > 0) {
        // The peer's client retries 429/503/504 but not a dropped connection: this run is expected
        // to fail, as the peer's sync would. It is reported, not counted as a bench failure.
        const faultyPeer = await fresh();
        const faultyPeerOrg = await setUpOrganization(faultyPeer, emu);
        await emulator.call('setFaultRate', { rate: opts.faultRate });
        let measured: Awaited<ReturnType<typeof measure>>;
        try {
          measured = await measure(emulator, faultyPeer, faultyPeerOrg, 'peer', opts, true);
        } finally {
          await emulator.call('setFaultRate', { rate: 0 });
        }
        const { status, errors } = measured.m.run;
        let note = `${measured.counts.faults} faults injected, `;
        if (status === 'succeeded') {
          const d = await directoryDigest(faultyPeer, faultyPeerOrg);
          note += same(d, digests.first) ? 'succeeded, directory identical' : 'succeeded, DIRECTORY DIFFERS';
        } else {
          const e = errors[0];
          note += `sync ${status} as the peer's would${e ? ` (${e.code}: ${e.message.slice(0, 160)})` : ''}`;
        }
        const r = row('peer-faults', opts, kind, measured, emu.fullMinimum, note);
        const ours = rows.find((x) => x.scenario === 'faults');
        if (ours && status === 'succeeded') ours.vsBaseline = ours.totalS / r.totalS;
        rows.push(r);
      }
    }

    const mutation = await emulator.call<MutationSummary>('mutate', {
      fraction: opts.change,
      seed: opts.seed + 1000,
    });
    log(
      `${kind}: changed users ${JSON.stringify(mutation.users)}, groups ${JSON.stringify(mutation.groups)}, ` +
        `memberships ${JSON.stringify(mutation.memberships)}`,
    );
    log(`${kind}: database settled in ${await main.settle()} ms`);
    const change = await measure(emulator, main, orgId, 'delta', opts);
    const applied = Object.entries(change.m.run.applied)
      .filter(([, n]) => n > 0)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ');
    rows.push(row('change', opts, kind, change, mutation.deltaMinimum, applied));
    digests.change = await directoryDigest(main, orgId);
    log(`${kind}: directory after the change sync: ${describe(digests.change)}`);
    return { rows, digests, failures, mutation };
  } finally {
    await emulator.stop();
    for (const db of dbs) await db.drop();
  }
}

const ORDER: ScenarioName[] = [
  'first',
  'no-change',
  'change',
  'faults',
  'peer-first',
  'peer-no-change',
  'peer-faults',
];

function table(rows: Row[]): string {
  const sorted = [...rows].sort(
    (a, b) =>
      ORDER.indexOf(a.scenario) - ORDER.indexOf(b.scenario) ||
      DATABASE_KINDS.indexOf(a.db) - DATABASE_KINDS.indexOf(b.db),
  );
  const s = (n: number) => n.toFixed(n < 10 ? 2 : 1);
  const lines = [
    "| scenario | db | read s | plan s | apply s | total s | Graph requests (minimum) | purposes: needed / requests / s | peak RSS MiB | vs the peer's strategy |",
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of sorted) {
    const over = r.minimum > 0 ? ((r.requests - r.minimum) / r.minimum) * 100 : 0;
    const req = `${r.requests} (${r.minimum}${r.requests === r.minimum ? '' : `, ${over >= 0 ? '+' : ''}${over.toFixed(over < 10 ? 1 : 0)} %`})`;
    const ratio = r.vsBaseline === undefined ? '—' : `${r.vsBaseline.toFixed(2)}×`;
    const p = r.purposes;
    const purposes = p ? `${p.needed} / ${p.requests} / ${s(p.ms / 1000)}` : '—';
    lines.push(
      `| ${r.name} | ${r.db} | ${s(r.readS)} | ${s(r.planS)} | ${s(r.applyS)} | ${s(r.totalS)} | ${req} | ${purposes} | ${r.peakRssMiB.toFixed(0)} | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = performance.now();
  // Other work on the machine shows in the timings; the load average says how much there was.
  const loadStart = loadavg()[0]!;
  log(
    `${opts.users} users, ${opts.groups} groups, ${opts.latencyMs} ms latency, databases ${opts.dbs.join(', ')}; ` +
      `${cpus().length} cores, Node ${process.version}`,
  );
  const server = opts.dbs.includes('postgres') ? await postgresServer() : undefined;
  if (server) log(`PostgreSQL: ${server.description}`);
  const rows: Row[] = [];
  const failures: string[] = [];
  const results: Record<string, unknown> = {};
  try {
    for (const kind of opts.dbs) {
      const r = await benchDatabase(kind, opts, server);
      rows.push(...r.rows);
      failures.push(...r.failures);
      results[kind] = { digests: r.digests, mutation: r.mutation };
    }
  } finally {
    await server?.stop();
  }
  if (opts.dbs.length > 1) {
    // Same seed, same tenant, same mutations: the databases must end up with the same directory.
    const [a, b] = opts.dbs.map((k) => results[k] as { digests: Record<string, DirectoryDigest> });
    for (const stage of ['first', 'change']) {
      if (a!.digests[stage]!.sha256 !== b!.digests[stage]!.sha256)
        failures.push(`SQLite and PostgreSQL directories differ after the ${stage} sync`);
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  const heading =
    `entrasync bench — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}; ` +
    `tenant ${opts.users} users, ${opts.groups} groups, ${opts.latencyMs} ms latency; bench took ${elapsed.toFixed(0)} s ` +
    `(load average ${loadStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end)`;
  console.log(`\n${heading}\n\n${table(rows)}\n`);
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.name} on ${r.db}: ${r.note}`);
  if (notes.length) console.log(`${notes.join('\n')}\n`);
  if (opts.json)
    writeFileSync(opts.json, `${JSON.stringify({ heading, options: opts, rows, results }, null, 2)}\n`);
  if (failures.length) {
    console.log(`FAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
