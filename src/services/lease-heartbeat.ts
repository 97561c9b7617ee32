/** How long a sync's lease lasts unless renewed, and how often the sync renews it. */
export interface LeaseTiming {
  ttlMs: number;
  renewEveryMs: number;
}

/**
 * A lease of `seconds`, renewed four times per lifetime: three renewals in a row may fail (a
 * database hiccup, a busy event loop) before the lease expires under a live sync.
 */
export function leaseTiming(seconds: number): LeaseTiming {
  return { ttlMs: seconds * 1000, renewEveryMs: (seconds * 1000) / 4 };
}

/** ENTRASYNC_SYNC_LEASE_SECONDS' default: a killed sync frees its organization within a minute. */
export const DEFAULT_LEASE_SECONDS = 60;

/**
 * Renews a lease on a timer while a sync works, beside its read, plan and apply. A renewal that
 * finds the lease lost (expired or taken over) ends the beats; the sync itself learns it when its
 * apply re-checks the lease in its transaction (the one place that decides), and `lostBecause`
 * says why for that error.
 */
export class LeaseHeartbeat {
  readonly #renew: () => Promise<boolean>;
  readonly #everyMs: number;
  #timer: NodeJS.Timeout | undefined;
  #beat: Promise<void> | null = null;
  #lastError: unknown = null;
  #lost = false;

  constructor(renew: () => Promise<boolean>, everyMs: number) {
    this.#renew = renew;
    this.#everyMs = everyMs;
  }

  start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#everyMs);
    // The sync's own work keeps the process alive; a forgotten timer must not.
    this.#timer.unref();
  }

  /** Stops the beats and waits for one in flight, so none lands after the lease is released. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#beat;
  }

  /** Why renewals stopped working, for the error of a sync that lost its lease. */
  get lostBecause(): string {
    if (this.#lost) return 'it had expired, or another sync had taken it over';
    if (this.#lastError !== null)
      return `renewing it failed: ${this.#lastError instanceof Error ? this.#lastError.message : String(this.#lastError)}`;
    return 'it was not renewed in time';
  }

  #tick(): void {
    // A renewal still waiting (a slow database, a row locked by the apply) is not doubled up.
    if (this.#beat) return;
    this.#beat = this.#renew()
      .then(
        (held) => {
          this.#lastError = null;
          if (held) return;
          this.#lost = true;
          clearInterval(this.#timer);
        },
        (error: unknown) => {
          // Kept, not thrown: a timer has no caller to throw to, and one failed renewal is not a
          // lost lease — the next beat retries, and the apply's check decides.
          this.#lastError = error;
        },
      )
      .finally(() => {
        this.#beat = null;
      });
  }
}
