import { api, query } from './client';

/** One collection's reading so far: pages fetched and objects in them. */
export interface CollectionProgress {
  pages: number;
  objects: number;
}

/**
 * A Search (the manual-sync preview) running as a job on the server, as
 * `…/sync/searches` answers it (the contract in src/http/routes/searches.ts).
 */
export interface SearchView {
  id: string;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  /** What it is doing now; null once finished. */
  phase: 'read' | 'plan' | 'store' | null;
  cancelRequested: boolean;
  startedAt: string;
  /** The runner's last heartbeat or progress write. */
  updatedAt: string;
  finishedAt: string | null;
  startedBy: string;
  /** Per collection read so far; collections not reached yet are absent. */
  progress: {
    users?: CollectionProgress;
    groups?: CollectionProgress;
    mailboxes?: CollectionProgress;
  };
  /** The stored preview once `done`: read it with loadPlan. */
  planId: string | null;
  /** Why it failed, in the API's error shape. */
  error: { code: string; message: string; hint?: string } | null;
}

/** This run's switches, as /sync/preview and /sync/searches take them. */
export interface RunOverrides {
  what: string[];
  how: string[];
}

/** Starts a search (202), or answers the organization's running one (200): one at a time. */
export function startSearch(orgPath: string, overrides: RunOverrides): Promise<SearchView> {
  return api<SearchView>('POST', `${orgPath}/sync/searches`, overrides);
}

/** One search as it is now. */
export function getSearch(orgPath: string, searchId: string): Promise<SearchView> {
  return api<SearchView>('GET', `${orgPath}/sync/searches/${encodeURIComponent(searchId)}`);
}

/** The organization's latest searches, newest first. */
export function listSearches(orgPath: string, limit: number): Promise<SearchView[]> {
  return api<SearchView[]>('GET', `${orgPath}/sync/searches${query({ limit })}`);
}

/** Asks a running search to stop; it reads `cancelled` once the runner noticed (at its next page). */
export function cancelSearch(orgPath: string, searchId: string): Promise<SearchView> {
  return api<SearchView>('POST', `${orgPath}/sync/searches/${encodeURIComponent(searchId)}/cancel`);
}
