import type { App } from '../services/app.js';
import type { JobsConfig } from './config.js';
import type { Logger } from './logger.js';
import type { JobIdentity, JobOutcome, SyncJob } from './runner.js';
import type { JobQueue } from './scheduler.js';

type Handler = (job: SyncJob, identity: JobIdentity) => Promise<JobOutcome>;

/**
 * The queue of a single process (SQLite): due organizations wait in memory, one per
 * organization, and run `concurrency` at a time. A handler that throws is retried with a doubling
 * delay, as pg-boss would. Nothing survives a restart, and nothing needs to: the next tick finds
 * the same organizations due.
 */
export class InProcessQueue implements JobQueue {
  readonly #waiting = new Map<string, { job: SyncJob; identity: JobIdentity }>();
  readonly #running = new Set<string>();
  readonly #idle: (() => void)[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(
    private readonly app: App,
    private readonly handler: Handler,
    private readonly config: Pick<JobsConfig, 'concurrency' | 'retryLimit' | 'retryDelaySeconds'>,
    private readonly logger: Logger,
  ) {}

  get depth(): number {
    return this.#waiting.size;
  }

  async enqueue(job: SyncJob): Promise<boolean> {
    if (this.#stopped || this.#waiting.has(job.orgId) || this.#running.has(job.orgId)) return false;
    this.#waiting.set(job.orgId, { job, identity: { jobId: this.app.runtime.newId(), attempt: 0 } });
    this.#pump();
    return true;
  }

  /** Resolves once nothing waits or runs (tests, shutdown). */
  drain(): Promise<void> {
    if (this.#waiting.size === 0 && this.#running.size === 0 && this.#timers.size === 0)
      return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.clear();
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    await this.drain();
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.config.concurrency) {
      const next = this.#waiting.values().next();
      if (next.done) break;
      const { job, identity } = next.value;
      this.#waiting.delete(job.orgId);
      this.#running.add(job.orgId);
      void this.#run(job, identity);
    }
    if (this.#waiting.size === 0 && this.#running.size === 0 && this.#timers.size === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #run(job: SyncJob, identity: JobIdentity): Promise<void> {
    try {
      await this.handler(job, identity);
    } catch (error) {
      const log = this.logger.child({ org: job.orgId, jobId: identity.jobId, attempt: identity.attempt });
      if (identity.attempt >= this.config.retryLimit || this.#stopped) {
        log.error({ err: error }, 'sync job failed; no retries left (the next due time tries again)');
      } else {
        const delay = this.config.retryDelaySeconds * 2 ** identity.attempt * 1000;
        log.warn({ err: error, retryInSeconds: delay / 1000 }, 'sync job failed; retrying');
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!this.#running.has(job.orgId) && !this.#stopped)
            this.#waiting.set(job.orgId, { job, identity: { ...identity, attempt: identity.attempt + 1 } });
          this.#pump();
        }, delay);
        timer.unref();
        this.#timers.add(timer);
      }
    } finally {
      this.#running.delete(job.orgId);
      this.#pump();
    }
  }
}
