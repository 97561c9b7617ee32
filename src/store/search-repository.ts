import type { Kysely, Selectable } from 'kysely';
import type { FieldError } from '../directory/errors.js';
import type { DialectInfo } from './dialect.js';
import type { Database, SyncSearchesTable } from './schema.js';

export type SearchState = 'running' | 'done' | 'failed' | 'cancelled';
export type SearchPhase = 'read' | 'plan' | 'store';
/** The collections a search reads, in the order they are reported. */
export type SearchCollection = 'users' | 'groups' | 'mailboxes';
/** Pages and objects read per collection so far; collections not reached yet are absent. */
export type SearchProgress = Partial<Record<SearchCollection, { pages: number; objects: number }>>;
/** An error as the API answers it. */
export interface SearchError {
  code: string;
  message: string;
  hint?: string;
  field?: string;
  fields?: FieldError[];
}

/** A search as stored. */
export interface SearchRecord {
  id: string;
  state: SearchState;
  phase: SearchPhase | null;
  cancelRequested: boolean;
  startedAt: string;
  updatedAt: string;
  finishedAt: string | null;
  startedBy: string;
  progress: SearchProgress;
  planId: string | null;
  error: SearchError | null;
}

/** How a search ended. */
export interface SearchEnd {
  state: Exclude<SearchState, 'running'>;
  finishedAt: string;
  progress?: SearchProgress;
  planId?: string | null;
  error?: SearchError | null;
}

/** One organization's searches (sync_searches): the runner's writes and everyone's reads. */
export class SearchRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectInfo,
    readonly orgId: string,
  ) {}

  /**
   * Records a new running search; false when the organization has one running already (the
   * unique index decides, so two servers asked at once cannot both start one).
   */
  async insert(search: { id: string; startedAt: string; startedBy: string }): Promise<boolean> {
    try {
      await this.db
        .insertInto('sync_searches')
        .values({
          org_id: this.orgId,
          id: search.id,
          state: 'running',
          phase: 'read',
          cancel_requested_at: null,
          started_at: search.startedAt,
          updated_at: search.startedAt,
          finished_at: null,
          started_by: search.startedBy,
          progress: '{}',
          plan_id: null,
          error: null,
        })
        .execute();
      return true;
    } catch (error) {
      if (this.dialect.isUniqueViolation(error)) return false;
      throw error;
    }
  }

  async get(id: string): Promise<SearchRecord | null> {
    const row = await this.db
      .selectFrom('sync_searches')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** The organization's search in state running (alive or not), if any. */
  async running(): Promise<SearchRecord | null> {
    const row = await this.db
      .selectFrom('sync_searches')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return row ? toRecord(row) : null;
  }

  /** The newest searches first. */
  async list(limit: number): Promise<SearchRecord[]> {
    const rows = await this.db
      .selectFrom('sync_searches')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .orderBy('started_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  /**
   * The runner's progress write (also its heartbeat). Returns whether a cancel was asked for, or
   * null when the search is no longer running (finished, or given up as interrupted).
   */
  async progress(
    id: string,
    at: { phase: SearchPhase; progress: SearchProgress; updatedAt: string },
  ): Promise<{ cancelRequested: boolean } | null> {
    const row = await this.db
      .updateTable('sync_searches')
      .set({ phase: at.phase, progress: JSON.stringify(at.progress), updated_at: at.updatedAt })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .where('state', '=', 'running')
      .returning('cancel_requested_at')
      .executeTakeFirst();
    return row ? { cancelRequested: row.cancel_requested_at !== null } : null;
  }

  /** Asks a running search to stop; false when it is not running. */
  async requestCancel(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_searches')
      .set({ cancel_requested_at: at })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .where('state', '=', 'running')
      .where('cancel_requested_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) > 0) return true;
    return (await this.get(id))?.state === 'running';
  }

  /**
   * Records how a running search ended; false when it had ended already. With `silentSince`,
   * only while its runner has been silent since then (a live runner's write keeps it running).
   */
  async finish(id: string, end: SearchEnd, silentSince?: string): Promise<boolean> {
    let update = this.db
      .updateTable('sync_searches')
      .set({
        state: end.state,
        phase: null,
        finished_at: end.finishedAt,
        updated_at: end.finishedAt,
        plan_id: end.planId ?? null,
        error: end.error ? JSON.stringify(end.error) : null,
        ...(end.progress ? { progress: JSON.stringify(end.progress) } : {}),
      })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .where('state', '=', 'running');
    if (silentSince !== undefined) update = update.where('updated_at', '<', silentSince);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Forgets finished searches started before `before` (their previews have long expired). */
  async deleteFinishedBefore(before: string): Promise<void> {
    await this.db
      .deleteFrom('sync_searches')
      .where('org_id', '=', this.orgId)
      .where('state', '<>', 'running')
      .where('started_at', '<', before)
      .execute();
  }
}

function toRecord(row: Selectable<SyncSearchesTable>): SearchRecord {
  return {
    id: row.id,
    state: row.state as SearchState,
    phase: row.phase as SearchPhase | null,
    cancelRequested: row.cancel_requested_at !== null,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    startedBy: row.started_by,
    progress: JSON.parse(row.progress) as SearchProgress,
    planId: row.plan_id,
    error: row.error ? (JSON.parse(row.error) as SearchError) : null,
  };
}
