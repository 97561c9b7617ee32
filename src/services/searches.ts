import type { Equal } from '../contract/common.js';
import { SEARCH_LIST_MAX } from '../contract/limits.js';
import type { SearchView } from '../contract/searches.js';
import { AppError, invalid, notFound } from '../directory/errors.js';
import type { ReadProgress } from '../graph/index.js';
import type { Store } from '../store/database.js';
import {
  type SearchEnd,
  type SearchError,
  type SearchPhase,
  type SearchProgress,
  type SearchRecord,
  SearchRepository,
} from '../store/search-repository.js';
import type { Runtime } from './clock.js';
import { errorResponse, INTERNAL_ERROR } from './error-body.js';
import { runError } from './run-errors.js';
import type { SyncOptions, SyncService } from './sync.js';

/**
 * A Search (the manual-sync preview) as the API shows it: what it is doing, what it has read,
 * and once done the stored preview's id (read it with GET …/sync/plans/{planId}).
 */
export type { SearchView };

// The store keeps a search as it is served (it may not import the contract): proven the same.
const _recordIsServed: Equal<SearchRecord, SearchView> = true;

/** A running search whose runner wrote nothing for this long is taken for dead (its server stopped). */
export const SEARCH_SILENT_MS = 2 * 60_000;

/** The runner writes at most once a tick, and at least every HEARTBEAT_TICKS ticks. */
const TICK_MS = 1000;
const HEARTBEAT_TICKS = 10;
/** Finished searches are forgotten after a day: their previews lasted an hour. */
const KEEP_MS = 24 * 60 * 60 * 1000;

/**
 * A search as it should be read at `now`: one still `running` whose runner has been silent for
 * SEARCH_SILENT_MS is failed (`interrupted`), whatever its row still says.
 */
export function searchView(search: SearchRecord, now: Date): SearchView {
  if (search.state !== 'running' || now.getTime() - Date.parse(search.updatedAt) < SEARCH_SILENT_MS) {
    return search;
  }
  return { ...search, ...interruptedEnd(search) };
}

/** The progress with one page's report folded in. */
export function withPage(progress: SearchProgress, page: ReadProgress): SearchProgress {
  return { ...progress, [page.phase]: { pages: page.pages, objects: page.objectsRead } };
}

/** How an interrupted search reads: failed when its runner was last heard of. */
function interruptedEnd(search: SearchRecord): SearchEnd & { phase: null; finishedAt: string } {
  return { state: 'failed', phase: null, finishedAt: search.updatedAt, error: runError('interrupted') };
}

/** Where a runner reports what it could not record (the request's logger of the POST that started it). */
export interface SearchLog {
  error(details: { err: unknown; searchId: string }, message: string): void;
}

/** Why a runner was told to stop. */
class Stop extends Error {
  constructor(readonly why: 'cancelled' | 'shutdown' | 'closed_elsewhere') {
    super(`search stopped: ${why}`);
  }
}

/**
 * Searches run as jobs in the process that was asked to start them, so no request waits for a
 * whole Entra read. The row in sync_searches is the truth every server reads: progress, a cancel
 * asked of any server, and how the search ended.
 */
export class SearchService {
  /** The searches this process runs, by id. */
  readonly #jobs = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(
    private readonly store: Store,
    private readonly runtime: Runtime,
    /** The organization's sync (it reads, plans and stores the preview). */
    private readonly syncOf: (orgId: string) => Promise<SyncService>,
  ) {}

  /**
   * Starts a search of the organization, or answers the one running already (started: false):
   * one at a time. A running search whose server stopped is closed as interrupted first.
   */
  async start(
    orgId: string,
    options: Pick<SyncOptions, 'what' | 'how'>,
    actor: string,
    log: SearchLog,
  ): Promise<{ search: SearchView; started: boolean }> {
    const sync = await this.syncOf(orgId);
    const repo = this.#repo(orgId);
    const now = this.runtime.now();
    await repo.deleteFinishedBefore(new Date(now.getTime() - KEEP_MS).toISOString());
    const id = this.runtime.newId();
    // Two servers may be asked at once: the unique index lets one insert; the other answers its search.
    let attempts = 0;
    while (!(await repo.insert({ id, startedAt: now.toISOString(), startedBy: actor }))) {
      const running = await repo.running();
      if (running) {
        const view = searchView(running, now);
        if (view.state === 'running') return { search: view, started: false };
        await repo.finish(running.id, interruptedEnd(running), silentSince(now));
      }
      if (++attempts === 3) {
        throw new AppError(
          'conflict',
          'Another search of this organization started at the same time: try again.',
        );
      }
    }
    const controller = new AbortController();
    const done = this.#run(repo, sync, id, options, actor, controller, log)
      .catch((err: unknown) => log.error({ err, searchId: id }, 'the search could not record how it ended'))
      .finally(() => this.#jobs.delete(id));
    this.#jobs.set(id, { controller, done });
    return { search: await this.get(orgId, id), started: true };
  }

  async get(orgId: string, id: string): Promise<SearchView> {
    const found = await this.#repo(orgId).get(id);
    if (!found) throw notFound(`No search ${id} in this organization.`);
    return searchView(found, this.runtime.now());
  }

  /** The organization's latest searches, newest first (a console that reloads finds its running one). */
  async list(orgId: string, limit = 5): Promise<SearchView[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_LIST_MAX) {
      throw invalid('limit', `limit must be a whole number from 1 to ${SEARCH_LIST_MAX}.`);
    }
    const now = this.runtime.now();
    return (await this.#repo(orgId).list(limit)).map((s) => searchView(s, now));
  }

  /**
   * Asks a running search to stop. This process's own runner stops at its next page; another
   * server's sees the request at its next progress write. Refused for a finished search.
   */
  async cancel(orgId: string, id: string): Promise<SearchView> {
    const search = await this.get(orgId, id);
    const asked =
      search.state === 'running' &&
      (await this.#repo(orgId).requestCancel(id, this.runtime.now().toISOString()));
    if (!asked) {
      const ended = search.state === 'running' ? await this.get(orgId, id) : search;
      throw new AppError('conflict', `Search ${id} has ended (${ended.state}): there is nothing to cancel.`);
    }
    this.#jobs.get(id)?.controller.abort(new Stop('cancelled'));
    return this.get(orgId, id);
  }

  /** Stops this process's searches (the server is shutting down): they end as interrupted. */
  async close(): Promise<void> {
    const jobs = [...this.#jobs.values()];
    for (const job of jobs) job.controller.abort(new Stop('shutdown'));
    await Promise.all(jobs.map((job) => job.done));
  }

  #repo(orgId: string): SearchRepository {
    return new SearchRepository(this.store.db, this.store.dialect, orgId);
  }

  /** Runs one search to its end and records the end; progress is written at most once a tick. */
  async #run(
    repo: SearchRepository,
    sync: SyncService,
    id: string,
    options: Pick<SyncOptions, 'what' | 'how'>,
    actor: string,
    controller: AbortController,
    log: SearchLog,
  ): Promise<void> {
    const { signal } = controller;
    const now = { phase: 'read' as SearchPhase, progress: {} as SearchProgress, changed: false };
    let idleTicks = 0;
    let writing: Promise<void> | null = null;
    const write = async () => {
      const answer = await repo.progress(id, {
        phase: now.phase,
        progress: now.progress,
        updatedAt: this.runtime.now().toISOString(),
      });
      if (!answer) controller.abort(new Stop('closed_elsewhere'));
      else if (answer.cancelRequested) controller.abort(new Stop('cancelled'));
    };
    // Timers fire between awaits, so a long synchronous planning step delays a heartbeat, never skips it.
    const ticker = setInterval(() => {
      if (writing || (!now.changed && ++idleTicks < HEARTBEAT_TICKS)) return;
      now.changed = false;
      idleTicks = 0;
      // A runner that cannot record its progress stops: nobody could see or cancel it.
      writing = write()
        .catch((error: unknown) => controller.abort(error))
        .finally(() => {
          writing = null;
        });
    }, TICK_MS);
    let end: Omit<SearchEnd, 'finishedAt'>;
    try {
      const preview = await sync.preview(
        {
          ...options,
          signal,
          onProgress: (page) => {
            now.progress = withPage(now.progress, page);
            now.changed = true;
          },
          onPhase: (phase) => {
            if (phase === 'apply') return;
            now.phase = phase;
            now.changed = true;
          },
        },
        actor,
      );
      end = { state: 'done', planId: preview.planId };
    } catch (error) {
      end = this.#failure(signal.aborted ? signal.reason : error, id, log);
    } finally {
      clearInterval(ticker);
      await writing;
    }
    await repo.finish(id, { ...end, progress: now.progress, finishedAt: this.runtime.now().toISOString() });
  }

  /** How a search that threw ends: cancelled, interrupted by a shutdown, or failed with the API's error body. */
  #failure(reason: unknown, id: string, log: SearchLog): Omit<SearchEnd, 'finishedAt'> {
    if (reason instanceof Stop) {
      return reason.why === 'cancelled'
        ? { state: 'cancelled' }
        : { state: 'failed', error: runError('interrupted') };
    }
    return { state: 'failed', error: errorOf(reason, id, log) };
  }
}

/** The error body the API would have answered; an unexpected error is logged, not shown. */
function errorOf(error: unknown, searchId: string, log: SearchLog): SearchError {
  const known = errorResponse(error);
  if (known) return known.body;
  log.error({ err: error, searchId }, 'the search failed');
  return INTERNAL_ERROR;
}

function silentSince(now: Date): string {
  return new Date(now.getTime() - SEARCH_SILENT_MS).toISOString();
}
