import { AppError } from '../directory/errors.js';
import { SigninLimitRepository } from '../store/auth-repository.js';
import type { Store } from '../store/database.js';
import type { Runtime } from './clock.js';

/** Wrong passwords one address may have before each further attempt waits. */
export const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 15_000;
const MAX_LOCK_MS = 3600_000;
// A day without attempts forgets an address's failures, so the table does not keep every typo.
const FORGET_AFTER_MS = 24 * 3600_000;

/** How long an address is refused after its `failures`-th consecutive wrong password: 15 s, 30 s, 1 min … 1 h. */
export function lockDuration(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  return Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** (failures - FREE_FAILURES));
}

/**
 * Per-address backoff of failed sign-ins, kept in the database so that every process sharing it
 * (several web servers on PostgreSQL) enforces the same count. It is applied to every address
 * typed, with or without an account, so being refused reveals nothing about which exist.
 */
export class SigninLimits {
  readonly #repo: SigninLimitRepository;

  constructor(
    store: Store,
    private readonly runtime: Runtime,
  ) {
    this.#repo = new SigninLimitRepository(store.db);
  }

  /** Refuses (429) while the address is locked out; no password is checked then. */
  async check(address: string): Promise<void> {
    const lockedUntil = await this.#repo.lockedUntil(address);
    if (!lockedUntil) return;
    const wait = new Date(lockedUntil).getTime() - this.runtime.now().getTime();
    if (wait > 0)
      throw new AppError(
        'rate_limited',
        `Too many failed sign-ins for this address: try again in ${Math.ceil(wait / 1000)} seconds.`,
      );
  }

  /** Counts a wrong password; from the FREE_FAILURES-th on, locks the address for a doubling time. */
  async failed(address: string): Promise<void> {
    const now = this.runtime.now();
    const at = now.toISOString();
    // One statement, so failures arriving at once in several processes each count.
    const failures = await this.#repo.countFailure(address, at);
    const lock = lockDuration(failures);
    if (lock > 0) await this.#repo.lock(address, new Date(now.getTime() + lock).toISOString());
    await this.#repo.forgetBefore(new Date(now.getTime() - FORGET_AFTER_MS).toISOString());
  }

  /** A successful sign-in starts the address afresh. */
  async succeeded(address: string): Promise<void> {
    await this.#repo.forget(address);
  }
}

/**
 * At most `concurrency` pieces of work at once and `queueLimit` waiting; more are refused at once.
 * Password hashing is deliberately slow and memory-hungry, and runs on libuv's small thread
 * pool: unbounded, a flood of sign-ins would queue behind it every file and DNS operation of the
 * API and exhaust memory. A refused sign-in is answered 429 in microseconds.
 */
export class WorkGate {
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queueLimit: number,
    private readonly busy: () => Error,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency) this.#running++;
    else if (this.#waiting.length >= this.queueLimit) throw this.busy();
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so #running counts only real work.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}

/** The process's password checks: two at a time (argon2 runs on libuv's four threads), sixteen waiting. */
export const passwordChecks = new WorkGate(
  2,
  16,
  () =>
    new AppError('rate_limited', 'The server is busy checking other sign-ins: try again in a few seconds.'),
);
