import { useCallback, useState } from 'react';

/**
 * The changes a person unticked in a preview (or a held run's review), kept per plan in the
 * tab's sessionStorage so that a reload or a return to the page shows them unticked still.
 * The pure part takes the storage and the clock, so it needs no browser to reason about.
 */

const PREFIX = 'entrasync.unticks.';
/** A preview lasts an hour; unticks of other plans last written longer ago than that are dropped. */
export const KEEP_MS = 60 * 60 * 1000;

interface Entry {
  savedAt: number;
  ids: string[];
}

/** The storage calls used, so tests and callers can pass any Storage. */
type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

function parse(text: string | null): Entry | null {
  if (!text) return null;
  try {
    const value = JSON.parse(text) as Partial<Entry>;
    if (typeof value.savedAt !== 'number' || !Array.isArray(value.ids)) return null;
    return { savedAt: value.savedAt, ids: value.ids.filter((id) => typeof id === 'string') };
  } catch {
    // Not ours or damaged: treated as nothing kept (and dropped by the next prune).
    return null;
  }
}

/** The ids kept unticked for this plan; empty when none are kept. */
export function readUnticks(store: Store, planId: string): Set<string> {
  return new Set(parse(store.getItem(PREFIX + planId))?.ids ?? []);
}

/**
 * Keeps this plan's unticked ids (none: the entry is removed), and drops other plans' entries
 * last written more than KEEP_MS before `now`, so the storage holds only previews still alive.
 * Returns false when the browser refused to store them (its quota): the page keeps them
 * until a reload only.
 */
export function keepUnticks(store: Store, planId: string, ids: ReadonlySet<string>, now: number): boolean {
  pruneUnticks(store, now, planId);
  if (ids.size === 0) {
    store.removeItem(PREFIX + planId);
    return true;
  }
  try {
    store.setItem(PREFIX + planId, JSON.stringify({ savedAt: now, ids: [...ids] } satisfies Entry));
    return true;
  } catch {
    // A stale entry would be worse than none: a reload would show an older set of unticks.
    store.removeItem(PREFIX + planId);
    return false;
  }
}

/** Forgets this plan's unticks (it was executed, approved or dismissed). */
export function forgetUnticks(store: Store, planId: string): void {
  store.removeItem(PREFIX + planId);
}

/** Drops every entry but `keep`'s that is older than KEEP_MS or unreadable. */
export function pruneUnticks(store: Store, now: number, keep?: string): void {
  const stale: string[] = [];
  for (let i = 0; i < store.length; i++) {
    const key = store.key(i);
    if (!key?.startsWith(PREFIX) || key === PREFIX + keep) continue;
    const entry = parse(store.getItem(key));
    if (!entry || now - entry.savedAt > KEEP_MS) stale.push(key);
  }
  for (const key of stale) store.removeItem(key);
}

/**
 * The unticked changes of the plan shown, read from and written to sessionStorage: another plan
 * starts from what was kept for it (usually nothing, every change ticked).
 */
export function useKeptUnticks(planId: string | null): {
  excluded: ReadonlySet<string>;
  setExcluded: (next: ReadonlySet<string>) => void;
  forget: () => void;
} {
  const load = (id: string | null): { planId: string | null; excluded: ReadonlySet<string> } => ({
    planId: id,
    excluded: id ? readUnticks(sessionStorage, id) : new Set<string>(),
  });
  const [state, setState] = useState(() => load(planId));
  let current = state;
  if (state.planId !== planId) {
    current = load(planId);
    setState(current);
  }
  const setExcluded = useCallback(
    (next: ReadonlySet<string>) => {
      setState({ planId, excluded: next });
      if (planId) keepUnticks(sessionStorage, planId, next, Date.now());
    },
    [planId],
  );
  const forget = useCallback(() => {
    if (planId) forgetUnticks(sessionStorage, planId);
    setState({ planId, excluded: new Set() });
  }, [planId]);
  return { excluded: current.excluded, setExcluded, forget };
}
