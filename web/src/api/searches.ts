import type { SearchView } from '../../../src/contract/searches.js';
import type { RunOverrides } from '../../../src/contract/sync.js';
import { api, query } from './client';

/**
 * A Search (the manual-sync preview) running as a job on the server, as `…/sync/searches` answers
 * it, and the what/how words a run may override: the contract's (src/contract/searches.ts, sync.ts).
 */
export type { RunOverrides, SearchView };
/** One collection's reading so far: pages fetched and objects in them. */
export type CollectionProgress = NonNullable<SearchView['progress']['users']>;

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
