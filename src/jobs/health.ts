import type { Runtime } from '../services/clock.js';
import { type RunResult, SyncService } from '../services/sync.js';
import { JobsRepository } from '../store/jobs-repository.js';

/**
 * A SyncService whose manual runs and approvals feed the connection's health. App.sync builds
 * it, so the API, the console and the CLI are all covered while SyncService knows nothing of
 * health. Automatic runs are left to the jobs runner, which also keeps the failure streak that
 * drives the backoff and the notifications.
 */
export class HealthRecordingSync extends SyncService {
  readonly #health: JobsRepository;
  readonly #orgId: string;
  readonly #runtime: Runtime;

  constructor(...args: ConstructorParameters<typeof SyncService>) {
    super(...args);
    const [store, org, , runtime] = args;
    this.#health = new JobsRepository(store.db, store.dialect);
    this.#orgId = org.id;
    this.#runtime = runtime;
  }

  override async execute(...args: Parameters<SyncService['execute']>): Promise<RunResult> {
    const result = await super.execute(...args);
    if (args[0].trigger === 'manual') await this.#record(result);
    return result;
  }

  /** An approval applies a plan by an admin's hand: it counts as a manual run. */
  override async approve(...args: Parameters<SyncService['approve']>): Promise<RunResult> {
    const result = await super.approve(...args);
    await this.#record(result);
    return result;
  }

  async #record(result: RunResult): Promise<void> {
    const at = this.#runtime.now().toISOString();
    if (result.status === 'failed')
      await this.#health.recordManualFailure(this.#orgId, result.errors[0] ?? null, at);
    else if (result.status === 'succeeded' || result.status === 'completed_with_conflicts')
      await this.#health.recordSuccess(this.#orgId, at);
  }
}
