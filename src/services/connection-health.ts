import type { Store } from '../store/database.js';
import { JobsRepository } from '../store/jobs-repository.js';
import type { Runtime } from './clock.js';
import type { RunResult } from './sync.js';

/**
 * Feeds a connection's health with a manual run or an approval (SyncHooks.afterManualRun). App
 * hangs it on every SyncService it builds, so the API, the console and the CLI are all covered
 * while SyncService knows nothing of health. Automatic runs are left to the jobs runner, which
 * also keeps the failure streak that drives the backoff and the notifications.
 */
export function connectionHealthRecorder(
  store: Store,
  orgId: string,
  runtime: Runtime,
): (result: RunResult) => Promise<void> {
  const health = new JobsRepository(store.db, store.dialect);
  return async (result) => {
    const at = runtime.now().toISOString();
    if (result.status === 'failed') await health.recordManualFailure(orgId, result.errors[0] ?? null, at);
    else if (result.status === 'succeeded' || result.status === 'completed_with_conflicts')
      await health.recordSuccess(orgId, at);
  };
}
