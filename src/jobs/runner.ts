import { AppError } from '../directory/errors.js';
import type { App } from '../services/app.js';
import { runError } from '../services/run-errors.js';
import type { RunResult } from '../services/sync.js';
import { JobsRepository } from '../store/jobs-repository.js';
import type { Logger } from './logger.js';
import type { JobMetrics } from './metrics.js';
import type { Notifier } from './notifier.js';
import { deletionSafeguard } from './safeguard.js';
import { backoffHours } from './schedule.js';

/** One automatic sync to run: the organization, and when it fell due (the scheduler's view). */
export interface SyncJob {
  orgId: string;
  dueAt: string;
}

/** What became of a job. */
export type JobOutcome =
  | { kind: 'ran'; runId: string; status: RunResult['status'] }
  /** Another run started since the job fell due (a manual one, or a duplicate job): nothing to do. */
  | { kind: 'skipped'; reason: 'already_synced' | 'not_scheduled' }
  /** A sync of the organization is running right now (a manual one): the schedule retries it later. */
  | { kind: 'busy'; holder: string };

/** The queue's identity of this job, stable across its retries. */
export interface JobIdentity {
  jobId: string;
  attempt: number;
}

/** Runs one organization's automatic sync and records what follows from it (health, notifications, metrics). */
export async function runSyncJob(
  app: App,
  job: SyncJob,
  identity: JobIdentity,
  deps: { logger: Logger; notifier: Notifier; metrics: JobMetrics },
): Promise<JobOutcome> {
  const repo = new JobsRepository(app.store.db, app.store.dialect);
  // Every attempt of one job has the same actor, so a retry recognises what a dead attempt left.
  const actor = `scheduler (job ${identity.jobId})`;
  const base = deps.logger.child({ org: job.orgId, jobId: identity.jobId, attempt: identity.attempt });
  const broken = await repo.breakLeaseOf(
    job.orgId,
    `scheduled sync by ${actor}`,
    app.runtime.now().toISOString(),
    runError('worker_lost'),
  );
  if (broken)
    base.warn({ runId: broken }, 'an earlier attempt of this job died mid-sync; its run is closed as failed');

  const [candidate] = await repo.candidates([job.orgId]);
  if (!candidate || candidate.frequencyHours === null || candidate.heldRunId) {
    base.info('organization no longer scheduled (manual only, disconnected, or a run awaits approval)');
    return { kind: 'skipped', reason: 'not_scheduled' };
  }
  if (await repo.ranSince(job.orgId, job.dueAt, actor)) {
    base.info({ dueAt: job.dueAt }, 'organization synced since it fell due; skipping');
    return { kind: 'skipped', reason: 'already_synced' };
  }

  const runId = app.runtime.newId();
  const log = base.child({ runId });
  const started = performance.now();
  log.info('automatic sync started');
  let result: RunResult;
  try {
    const sync = await app.sync(job.orgId);
    result = await sync.execute(
      {
        trigger: 'scheduled',
        runId,
        safeguard: deletionSafeguard(repo, job.orgId),
        onProgress: (p) => log.debug({ phase: p.phase, objectsRead: p.objectsRead }, 'reading'),
      },
      actor,
    );
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict') {
      // The lease refused us: a manual sync is running. Its start now counts as the last run.
      log.info({ reason: error.message }, 'another sync of this organization is running; skipping');
      return { kind: 'busy', holder: error.message };
    }
    throw error;
  }
  const seconds = (performance.now() - started) / 1000;
  deps.metrics.runs.inc({ status: result.status, trigger: 'scheduled' });
  deps.metrics.duration.observe({ status: result.status }, seconds);
  const read = await readStats(app, job.orgId, runId);
  if (read) {
    deps.metrics.graphRequests.inc(read.requests);
    deps.metrics.graphThrottled.inc(read.throttled);
  }
  const at = app.runtime.now().toISOString();
  const summary = {
    status: result.status,
    seconds: Math.round(seconds * 10) / 10,
    applied: result.applied,
    conflicts: result.conflicts.length,
    graphRequests: read?.requests,
    throttled: read?.throttled,
  };
  const org = await app.orgs.get(job.orgId);
  if (result.status === 'failed') {
    const failures = await repo.recordFailure(job.orgId, result.errors[0] ?? null, at);
    log.warn({ ...summary, error: result.errors[0], consecutiveFailures: failures }, 'automatic sync failed');
    // The first failure of a streak, then every fifth: a broken connection is said, not shouted.
    if (failures === 1 || failures % 5 === 0) {
      const error = result.errors[0];
      await deps.notifier.notify(job.orgId, {
        kind: 'sync_failed',
        dedupeKey: `sync_failed:${runId}`,
        runId,
        title: 'Automatic sync failed',
        message: `The automatic sync of ${org.name} failed${failures > 1 ? ` (${failures} times in a row)` : ''}: ${error?.message ?? 'unknown error'}${error?.hint ? ` ${error.hint}` : ''} The next attempt is in ${backoffHours(failures)} hour(s).`,
      });
    }
  } else if (result.status === 'held') {
    log.warn({ ...summary, held: result.held }, 'automatic sync held for review');
    await deps.notifier.notify(job.orgId, {
      kind: 'sync_held',
      dedupeKey: `sync_held:${runId}`,
      runId,
      title: 'Automatic sync held for review',
      message: `${result.held?.message ?? 'This sync is held.'} Approve or dismiss run ${runId} in the console (or \`entrasync sync approve|dismiss --org … --run ${runId}\`). Automatic syncs of ${org.name} pause until then.`,
    });
  } else {
    await repo.recordSuccess(job.orgId, at);
    log.info(summary, 'automatic sync finished');
    const seats = result.seats;
    // Said once, when a sync takes the organization past its licence; not at every sync after.
    if (seats && seats.licensed !== null && seats.before <= seats.licensed && seats.after > seats.licensed) {
      await deps.notifier.notify(job.orgId, {
        kind: 'seats_exceeded',
        dedupeKey: `seats_exceeded:${runId}`,
        runId,
        title: 'More users than licensed',
        message: `The automatic sync of ${org.name} brought its billable users from ${seats.before} to ${seats.after}, past the ${seats.licensed} seats of its licence. Shared, room and equipment mailboxes are not counted.`,
      });
    }
  }
  return { kind: 'ran', runId, status: result.status };
}

async function readStats(app: App, orgId: string, runId: string) {
  const run = await (await app.sync(orgId)).run(runId);
  const read = (run.summary as { read?: { requests?: number; throttled?: number } }).read;
  return read ? { requests: read.requests ?? 0, throttled: read.throttled ?? 0 } : null;
}
