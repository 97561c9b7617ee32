import type { App } from '../services/app.js';
import type { JobsConfig } from './config.js';
import { InProcessQueue } from './in-process.js';
import { jobsLogger, type Logger } from './logger.js';
import { jobMetrics } from './metrics.js';
import { type Mailer, Notifier } from './notifier.js';
import { PgBossQueue } from './pg-boss-queue.js';
import { runSyncJob } from './runner.js';
import { type JobQueue, Scheduler } from './scheduler.js';

export { AutomationService, SAFEGUARD_LIMITS } from './automation.js';
export { jobMetrics } from './metrics.js';
export { Notifier } from './notifier.js';
export { runSyncJob } from './runner.js';
export { Scheduler } from './scheduler.js';

/** Which parts of the automatic sync this process plays. */
export interface JobRoles {
  /** Finds due organizations and enqueues them (any number of processes may). */
  scheduler: boolean;
  /** Runs queued syncs. On SQLite the scheduler's process always runs them itself. */
  worker: boolean;
}

/** The running automatic-sync machinery of one process. */
export interface JobsHandle {
  scheduler: Scheduler | null;
  queue: JobQueue;
  notifier: Notifier;
  /** Resolves once the in-process queue is idle (SQLite); immediately on PostgreSQL. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts scheduler and/or worker over the App's database: pg-boss on PostgreSQL, an in-process
 * queue on SQLite (one process owns a SQLite file). `autoTick: false` leaves ticking to the
 * caller (tests drive the clock).
 */
export async function startJobs(
  app: App,
  roles: JobRoles,
  options: { config?: JobsConfig; logger?: Logger; mailer?: Mailer; autoTick?: boolean } = {},
): Promise<JobsHandle> {
  const config = options.config ?? app.config.jobs;
  const logger = options.logger ?? jobsLogger({ level: app.config.logLevel, format: app.config.logFormat });
  const notifier = new Notifier(app, config, logger, options.mailer);
  const metrics = jobMetrics(app);
  const handler = (job: Parameters<typeof runSyncJob>[1], identity: Parameters<typeof runSyncJob>[2]) =>
    runSyncJob(app, job, identity, { logger, notifier, metrics });
  const location = app.config.store;

  if ('postgresUrl' in location) {
    const queue = await PgBossQueue.start(location.postgresUrl, config, logger);
    metrics.localQueueDepth = null;
    if (roles.worker) await queue.work(handler);
    const scheduler = roles.scheduler ? new Scheduler(app, queue, notifier, logger) : null;
    if (scheduler && options.autoTick !== false) scheduler.start(config.schedulerIntervalSeconds);
    logger.info(
      { roles, database: 'postgres', concurrency: roles.worker ? config.concurrency : 0 },
      'jobs started',
    );
    return {
      scheduler,
      queue,
      notifier,
      drain: async () => {},
      async stop() {
        await scheduler?.stop();
        await queue.stop();
      },
    };
  }

  const queue = new InProcessQueue(app, handler, config, logger);
  metrics.localQueueDepth = () => queue.depth;
  const scheduler = new Scheduler(app, queue, notifier, logger);
  if (options.autoTick !== false) scheduler.start(config.schedulerIntervalSeconds);
  logger.info({ roles: { scheduler: true, worker: true }, database: 'sqlite' }, 'jobs started (in-process)');
  return {
    scheduler,
    queue,
    notifier,
    drain: () => queue.drain(),
    async stop() {
      await scheduler.stop();
      await queue.stop();
    },
  };
}
