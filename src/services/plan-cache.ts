/**
 * Parsed bodies of stored plans, kept in this process so that reading a large preview page by
 * page does not un-gzip and parse the whole plan for every page (a 100k-change preview is ~200
 * page reads). A stored plan's body never changes once written, so an entry is never stale; what
 * may change (its expiry, the run that used it) is read from the database on every call. Bounded
 * by the packed size of the bodies it holds, least recently used dropped first.
 */
export class PlanBodyCache<T> {
  readonly #entries = new Map<string, { body: T; weight: number }>();
  #weight = 0;

  /** `maxWeight`: the packed bytes the cache may hold (a parsed body is ~10–20× its packed size). */
  constructor(private readonly maxWeight: number) {}

  get(orgId: string, planId: string): T | undefined {
    const key = keyOf(orgId, planId);
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    // Re-inserted: a Map iterates in insertion order, so the first key is the least recently used.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.body;
  }

  set(orgId: string, planId: string, body: T, weight: number): void {
    this.forget(orgId, planId);
    // A body bigger than the whole cache would only evict everything else: not kept.
    if (weight > this.maxWeight) return;
    this.#entries.set(keyOf(orgId, planId), { body, weight });
    this.#weight += weight;
    for (const [key, entry] of this.#entries) {
      if (this.#weight <= this.maxWeight) break;
      this.#entries.delete(key);
      this.#weight -= entry.weight;
    }
  }

  forget(orgId: string, planId: string): void {
    const key = keyOf(orgId, planId);
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  get size(): number {
    return this.#entries.size;
  }
}

function keyOf(orgId: string, planId: string): string {
  return `${orgId}\u0000${planId}`;
}
