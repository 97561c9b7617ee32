import PgBoss from 'pg-boss';
import type { JobsConfig } from './config.js';
import type { Logger } from './logger.js';
import { SYNC_QUEUE } from './metrics.js';
import type { JobIdentity, JobOutcome, SyncJob } from './runner.js';
import type { JobQueue } from './scheduler.js';

type Handler = (job: SyncJob, identity: JobIdentity) => Promise<JobOutcome>;

/**
 * Automatic syncs through pg-boss on PostgreSQL. The queue's policy 'short' keeps at most one
 * waiting job per singleton key (the organization id), so schedulers enqueueing the same
 * organization at once create one job. A job whose worker dies stays active until its
 * expiry, then pg-boss's maintenance fails it and retries it with backoff on another worker.
 */
export class PgBossQueue implements JobQueue {
  private constructor(
    private readonly boss: PgBoss,
    private readonly config: JobsConfig,
    private readonly logger: Logger,
  ) {}

  static async start(connectionString: string, config: JobsConfig, logger: Logger): Promise<PgBossQueue> {
    const boss = new PgBoss({
      connectionString,
      max: Math.max(2, config.concurrency + 1),
      application_name: 'entrasync-jobs',
      // Crons are not used: the scheduler computes due times from each organization's last run.
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: config.maintenanceIntervalSeconds,
    });
    boss.on('error', (error: unknown) => logger.error({ err: error }, 'pg-boss error'));
    await boss.start();
    // create_queue ignores an existing queue, so every process can call this at start.
    await boss.createQueue(SYNC_QUEUE, { name: SYNC_QUEUE, policy: 'short' });
    return new PgBossQueue(boss, config, logger);
  }

  async enqueue(job: SyncJob): Promise<boolean> {
    const id = await this.boss.send(SYNC_QUEUE, job, {
      singletonKey: job.orgId,
      retryLimit: this.config.retryLimit,
      retryDelay: this.config.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.config.jobTimeoutSeconds,
    });
    return id !== null;
  }

  /** Starts `concurrency` pollers, each running one sync at a time. */
  async work(handler: Handler): Promise<void> {
    for (let i = 0; i < this.config.concurrency; i++) {
      await this.boss.work<SyncJob>(
        SYNC_QUEUE,
        { batchSize: 1, includeMetadata: true, pollingIntervalSeconds: this.config.pollIntervalSeconds },
        async ([job]) => {
          if (!job) return;
          const outcome = await handler(job.data, { jobId: job.id, attempt: job.retryCount });
          this.logger.debug({ jobId: job.id, org: job.data.orgId, outcome }, 'job done');
          return outcome;
        },
      );
    }
  }

  async depth(): Promise<number> {
    return this.boss.getQueueSize(SYNC_QUEUE);
  }

  /** Stops polling and waits (up to the timeout) for running syncs to finish. */
  async stop(graceful = true): Promise<void> {
    await this.boss.stop({ graceful, wait: true, timeout: 60_000 });
  }
}
