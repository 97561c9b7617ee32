/** Outcome of charging one request against an app+tenant resource-unit budget. */
export interface ThrottleResult {
  allowed: boolean;
  /** Share of the budget in use after this request (1 = full). */
  usage: number;
  /** Seconds until the request would fit, when not allowed. */
  retryAfter: number;
}

/** The resource-unit quota per app+tenant per 10 s for a tenant of this many users (docs/graph-facts.md §5.2). */
export function quotaFor(users: number): number {
  if (users < 50) return 3500;
  if (users <= 500) return 5000;
  return 8000;
}

/**
 * A token bucket per app: capacity = the 10-second quota, refilled continuously, so a burst can
 * use the whole quota and a steady client gets quota/10 RU per second.
 */
export class ResourceUnitThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly quota: () => number) {}

  charge(appId: string, cost: number, now = Date.now()): ThrottleResult {
    const cap = this.quota();
    const rate = cap / 10_000;
    const b = this.buckets.get(appId) ?? { tokens: cap, at: now };
    b.tokens = Math.min(cap, b.tokens + (now - b.at) * rate);
    b.at = now;
    this.buckets.set(appId, b);
    if (b.tokens < cost) {
      return {
        allowed: false,
        usage: 1 - b.tokens / cap,
        retryAfter: Math.max(1, Math.ceil((cost - b.tokens) / rate / 1000)),
      };
    }
    b.tokens -= cost;
    return { allowed: true, usage: 1 - b.tokens / cap, retryAfter: 0 };
  }

  reset(): void {
    this.buckets.clear();
  }
}
