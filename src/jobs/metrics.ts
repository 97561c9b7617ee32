import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { App } from '../services/app.js';
import { JobsRepository } from '../store/jobs-repository.js';
import { nextSyncAt } from './schedule.js';

/** The pg-boss queue automatic syncs go through. */
export const SYNC_QUEUE = 'entrasync-sync';

/**
 * Prometheus metrics of one process. Counters and the duration histogram count what this
 * process did (scrape every worker); the gauges read the database, so any process shows them
 * for the whole service.
 */
export class JobMetrics {
  readonly registry = new Registry();
  readonly runs: Counter<'status' | 'trigger'>;
  readonly duration: Histogram<'status'>;
  readonly graphRequests: Counter;
  readonly graphThrottled: Counter;
  /** Set by the in-process queue (SQLite); on PostgreSQL the depth is read from pg-boss's table. */
  localQueueDepth: (() => number) | null = null;

  constructor(private readonly app: App) {
    const registers = [this.registry];
    this.runs = new Counter({
      name: 'entrasync_sync_runs_total',
      help: 'Sync runs finished by this process, by status and trigger',
      labelNames: ['status', 'trigger'],
      registers,
    });
    this.duration = new Histogram({
      name: 'entrasync_sync_run_duration_seconds',
      help: 'Wall time of automatic sync runs in this process (read + plan + apply)',
      labelNames: ['status'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800],
      registers,
    });
    this.graphRequests = new Counter({
      name: 'entrasync_graph_requests_total',
      help: 'Microsoft Graph requests made by automatic syncs in this process',
      registers,
    });
    this.graphThrottled = new Counter({
      name: 'entrasync_graph_throttled_total',
      help: 'Graph responses 429/503 (throttling) seen by automatic syncs in this process',
      registers,
    });
    const repo = new JobsRepository(app.store.db, app.store.dialect);
    new Gauge({
      name: 'entrasync_sync_runs',
      help: 'Sync runs recorded in the database, by status and trigger (all processes)',
      labelNames: ['status', 'trigger'],
      registers,
      async collect() {
        this.reset();
        for (const r of await repo.runCounts()) this.set({ status: r.status, trigger: r.trigger }, r.n);
      },
    });
    new Gauge({
      name: 'entrasync_orgs_due',
      help: 'Organizations whose automatic sync is due now',
      registers,
      collect: async function (this: Gauge) {
        const now = app.runtime.now();
        const due = (await repo.candidates()).filter((c) => {
          const at = nextSyncAt(c, now);
          return at !== null && at <= now;
        });
        this.set(due.length);
      },
    });
    const self = this;
    new Gauge({
      name: 'entrasync_queue_depth',
      help: 'Automatic sync jobs waiting to be run',
      registers,
      async collect() {
        this.set(await self.queueDepth());
      },
    });
  }

  async queueDepth(): Promise<number> {
    if (this.localQueueDepth) return this.localQueueDepth();
    return new JobsRepository(this.app.store.db, this.app.store.dialect).pgBossQueueDepth(SYNC_QUEUE);
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}

const perApp = new WeakMap<App, JobMetrics>();

/** The metrics of this process's App (shared by the jobs and the /metrics route). */
export function jobMetrics(app: App): JobMetrics {
  let metrics = perApp.get(app);
  if (!metrics) {
    metrics = new JobMetrics(app);
    perApp.set(app, metrics);
  }
  return metrics;
}
