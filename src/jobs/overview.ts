import type { SyncOverview } from '../contract/overview.js';
import type { App } from '../services/app.js';
import { JobsRepository } from '../store/jobs-repository.js';
import { type AttentionItem, type OverviewQuery, rankAttention } from './attention.js';
import { nextSyncAt } from './schedule.js';

/** What the console's overview shows of an organization's automatic sync: the contract's. */
export type { SyncOverview } from '../contract/overview.js';

/** The automatic-sync state of one organization. */
export async function syncOverview(app: App, orgId: string): Promise<SyncOverview> {
  const repo = new JobsRepository(app.store.db, app.store.dialect);
  const [candidate] = await repo.candidates([orgId]);
  const health = await repo.health(orgId);
  const last = await repo.lastSuccessfulRun(orgId);
  const next = candidate ? nextSyncAt(candidate, app.runtime.now()) : null;
  let heldRun: SyncOverview['heldRun'] = null;
  if (candidate?.heldRunId) {
    const run = await (await app.sync(orgId)).run(candidate.heldRunId);
    const held = (run.summary as { held?: { message?: string } }).held;
    heldRun = { runId: run.id, startedAt: run.startedAt, reason: held?.message ?? null };
  }
  const failures = health?.consecutive_failures ?? 0;
  // A manual failure leaves the streak at 0 (no backoff) but keeps its error until a success clears it.
  const failing = failures > 0 || Boolean(health?.last_error);
  return {
    connection: {
      configured: candidate !== undefined,
      healthy: candidate !== undefined && !failing,
      lastError: failing && health?.last_error ? JSON.parse(health.last_error) : null,
      consecutiveFailures: failures,
      lastFailureAt: health?.last_failure_at ?? null,
    },
    frequencyHours: candidate?.frequencyHours ?? null,
    lastSuccessfulSync: last
      ? { runId: last.id, startedAt: last.startedAt, finishedAt: last.finishedAt }
      : null,
    nextScheduledSync: next?.toISOString() ?? null,
    heldRun,
    unreadNotifications: (await repo.listNotifications(orgId, { unreadOnly: true, limit: 1000, offset: 0 }))
      .length,
  };
}

/**
 * The operator's view across every organization (GET /api/v1/overview, `org list --health`,
 * the console's Service overview): the facts in one query, judged and ranked by rankAttention.
 */
export async function serviceOverview(
  app: App,
  query: OverviewQuery,
): Promise<{ total: number; items: AttentionItem[] }> {
  const repo = new JobsRepository(app.store.db, app.store.dialect);
  return rankAttention(await repo.overviewFacts(), app.runtime.now(), query);
}
