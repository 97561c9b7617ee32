import type { App } from '../services/app.js';
import { JobsRepository } from '../store/jobs-repository.js';
import type { Logger } from './logger.js';
import type { Notifier } from './notifier.js';
import type { SyncJob } from './runner.js';
import { daysUntil, nextSyncAt, secretReminderStep } from './schedule.js';

/** Where the scheduler puts due syncs: pg-boss on PostgreSQL, an in-process queue on SQLite. */
export interface JobQueue {
  /** False when a job of this organization is already waiting (one per organization). */
  enqueue(job: SyncJob): Promise<boolean>;
}

/** What one tick did. */
export interface TickResult {
  due: string[];
  enqueued: string[];
  reminders: number;
}

/**
 * Finds due organizations and enqueues them, and sends secret-expiry reminders. Stateless: any
 * number of schedulers may tick at once, because the queue keeps one waiting job per
 * organization, a job skips an organization synced since it fell due, and a notification is
 * recorded once per key.
 */
export class Scheduler {
  readonly #repo: JobsRepository;
  #timer: NodeJS.Timeout | null = null;
  #ticking: Promise<unknown> | null = null;

  constructor(
    private readonly app: App,
    private readonly queue: JobQueue,
    private readonly notifier: Notifier,
    private readonly logger: Logger,
  ) {
    this.#repo = new JobsRepository(app.store.db, app.store.dialect);
  }

  async tick(): Promise<TickResult> {
    const now = this.app.runtime.now();
    const result: TickResult = { due: [], enqueued: [], reminders: 0 };
    for (const c of await this.#repo.candidates()) {
      const next = nextSyncAt(c, now);
      if (next && next <= now) {
        result.due.push(c.orgId);
        if (await this.queue.enqueue({ orgId: c.orgId, dueAt: next.toISOString() }))
          result.enqueued.push(c.orgId);
      }
      if (c.secretExpiresAt) {
        const step = secretReminderStep(c.secretExpiresAt, now);
        if (step !== null && (await this.#remind(c.orgId, c.secretExpiresAt, step))) result.reminders++;
      }
    }
    if (result.due.length > 0 || result.reminders > 0)
      this.logger.info(
        { due: result.due.length, enqueued: result.enqueued.length, reminders: result.reminders },
        'scheduler tick',
      );
    return result;
  }

  async #remind(orgId: string, expiresAt: string, step: number): Promise<boolean> {
    // The step only decides when a reminder is due (once per step); the words say the days left,
    // so a key entered 19 days ahead reads "19 days", not the step's "30 days".
    const daysLeft = daysUntil(expiresAt, this.app.runtime.now());
    const days = `${daysLeft} day${daysLeft === 1 ? '' : 's'}`;
    const when = step === 0 ? `expired on ${expiresAt}` : `expires on ${expiresAt}, in ${days}`;
    const recorded = await this.notifier.notify(orgId, {
      kind: 'secret_expiring',
      dedupeKey: `secret_expiring:${expiresAt}:${step}`,
      title: step === 0 ? 'Entra client secret expired' : `Entra client secret expires in ${days}`,
      message: `The client secret of the Entra app registration ${when}. Create a new secret in the Entra admin center (App registrations → your app → Certificates & secrets → New client secret), then save its Value and new expiry date in the Entra settings, or syncs will fail.`,
    });
    return recorded !== null;
  }

  /** Ticks now and then every `intervalSeconds`; a failed tick is logged and the next one tries again. */
  start(intervalSeconds: number): void {
    const run = () => {
      if (this.#ticking) return;
      this.#ticking = this.tick()
        .catch((error: unknown) => this.logger.error({ err: error }, 'scheduler tick failed'))
        .finally(() => {
          this.#ticking = null;
        });
    };
    run();
    this.#timer = setInterval(run, intervalSeconds * 1000);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#ticking;
  }
}
