import type { Kysely, Transaction } from 'kysely';
import { PackedJson, packJson, unpackJson } from './blobs.js';
import type { DialectInfo } from './dialect.js';
import type { Database, SyncRunsTable } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A sync run as stored: the summary is JSON the service defines. */
export interface RunRecord {
  id: string;
  trigger: string;
  actor: string;
  planId: string | null;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  summary: unknown;
}

/** A stored preview's dates, and the run that executed it (null: not executed). */
export interface PlanMeta {
  createdAt: string;
  expiresAt: string;
  usedByRun: string | null;
}

/** Stored previews, runs, the source mirror with its cursor, and the per-organization lease. */
export class SyncRepository {
  constructor(
    private readonly db: Db,
    private readonly dialect: DialectInfo,
    readonly orgId: string,
  ) {}

  with(trx: Transaction<Database>): SyncRepository {
    return new SyncRepository(trx, this.dialect, this.orgId);
  }

  /**
   * The delta cursor that continues the mirror (SourceRepository holds the mirror itself), and
   * the basis of the last apply.
   */
  async loadState<C, B>(): Promise<{ cursor: C; basis: B | null; updatedAt: string } | null> {
    const row = await this.db
      .selectFrom('sync_state')
      .select(['cursor', 'basis', 'updated_at'])
      .where('org_id', '=', this.orgId)
      .executeTakeFirst();
    if (!row) return null;
    return {
      cursor: JSON.parse(row.cursor) as C,
      basis: row.basis ? (JSON.parse(row.basis) as B) : null,
      updatedAt: row.updated_at,
    };
  }

  /** When the mirror was last written (by an apply), or null when there is none. */
  async stateUpdatedAt(): Promise<string | null> {
    const row = await this.db
      .selectFrom('sync_state')
      .select('updated_at')
      .where('org_id', '=', this.orgId)
      .executeTakeFirst();
    return row?.updated_at ?? null;
  }

  /** Moves the cursor and the basis on, in the apply's transaction (which wrote the mirror's rows). */
  async saveState(state: { cursor: unknown; basis: unknown }, now: string): Promise<void> {
    const values = {
      cursor: JSON.stringify(state.cursor),
      basis: state.basis === null ? null : JSON.stringify(state.basis),
      updated_at: now,
    };
    await this.db
      .insertInto('sync_state')
      .values({ org_id: this.orgId, ...values })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute();
  }

  /** Stores a preview: its body, the packed snapshot it was read into (null: the mirror's), its cursor. */
  async savePlan(
    id: string,
    plan: { body: unknown; snapshot: Buffer | null; cursor: unknown },
    meta: { createdAt: string; expiresAt: string; createdBy: string },
  ) {
    await this.db
      .insertInto('sync_plans')
      .values({
        org_id: this.orgId,
        id,
        created_at: meta.createdAt,
        expires_at: meta.expiresAt,
        created_by: meta.createdBy,
        body: packJson(plan.body),
        snapshot: plan.snapshot,
        cursor: JSON.stringify(plan.cursor),
        used_by_run: null,
      })
      .execute();
  }

  /** A stored preview; the snapshot stays packed (apply copies it to the mirror as it is). */
  async loadPlan<T, C>(
    id: string,
  ): Promise<{
    body: T;
    snapshot: Buffer | null;
    cursor: C;
    createdAt: string;
    expiresAt: string;
    usedByRun: string | null;
  } | null> {
    const row = await this.db
      .selectFrom('sync_plans')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row
      ? {
          body: unpackJson<T>(row.body),
          snapshot: row.snapshot ? Buffer.from(row.snapshot) : null,
          cursor: JSON.parse(row.cursor) as C,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
          usedByRun: row.used_by_run,
        }
      : null;
  }

  /** A stored preview's body and dates, without its snapshot (for reading it, not applying it). */
  async loadPlanBody<T>(id: string): Promise<
    | (PlanMeta & {
        body: T;
        /** The body's packed size (what a cache of parsed bodies weighs it by). */
        packedBytes: number;
      })
    | null
  > {
    const row = await this.db
      .selectFrom('sync_plans')
      .select(['body', 'created_at', 'expires_at', 'used_by_run'])
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row
      ? {
          body: unpackJson<T>(row.body),
          packedBytes: row.body.byteLength,
          createdAt: row.created_at,
          expiresAt: row.expires_at,
          usedByRun: row.used_by_run,
        }
      : null;
  }

  /** A stored preview's dates and the run that used it, without reading its body. */
  async planMeta(id: string): Promise<PlanMeta | null> {
    const row = await this.db
      .selectFrom('sync_plans')
      .select(['created_at', 'expires_at', 'used_by_run'])
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { createdAt: row.created_at, expiresAt: row.expires_at, usedByRun: row.used_by_run } : null;
  }

  async markPlanUsed(id: string, runId: string): Promise<void> {
    await this.db
      .updateTable('sync_plans')
      .set({ used_by_run: runId })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .execute();
  }

  /** Drops previews that expired (they hold a whole snapshot each). */
  async deleteExpiredPlans(now: string): Promise<void> {
    await this.db
      .deleteFrom('sync_plans')
      .where('org_id', '=', this.orgId)
      .where('expires_at', '<', now)
      .execute();
  }

  async insertRun(run: RunRecord): Promise<void> {
    await this.db
      .insertInto('sync_runs')
      .values({
        org_id: this.orgId,
        id: run.id,
        trigger: run.trigger,
        actor: run.actor,
        plan_id: run.planId,
        status: run.status,
        started_at: run.startedAt,
        finished_at: run.finishedAt,
        summary: JSON.stringify(run.summary),
        detail: null,
      })
      .execute();
  }

  async finishRun(
    id: string,
    fields: {
      status: string;
      finishedAt: string;
      summary: unknown;
      /** Packed here, unless the caller packed it ahead (PackedJson). */
      detail?: unknown;
      planId?: string | null;
    },
  ) {
    await this.db
      .updateTable('sync_runs')
      .set({
        status: fields.status,
        finished_at: fields.finishedAt,
        summary: JSON.stringify(fields.summary),
        ...(fields.detail === undefined
          ? {}
          : { detail: fields.detail instanceof PackedJson ? fields.detail.blob : packJson(fields.detail) }),
        ...(fields.planId === undefined ? {} : { plan_id: fields.planId }),
      })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Moves a run from one status to another, and replaces its summary when one is given (in the
   * same statement, so only the winner's is written); false when it was not in `from` (someone
   * else moved it).
   */
  async transitionRun(id: string, from: string, to: string, summary?: unknown): Promise<boolean> {
    const result = await this.db
      .updateTable('sync_runs')
      .set({ status: to, ...(summary === undefined ? {} : { summary: JSON.stringify(summary) }) })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Keeps a stored plan longer (a held run's) or lets it expire now (a dismissed one's). */
  async setPlanExpiry(id: string, expiresAt: string): Promise<void> {
    await this.db
      .updateTable('sync_plans')
      .set({ expires_at: expiresAt })
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .execute();
  }

  /** Marks read what was said about a run (a held run's notification, once someone decided it). */
  async markRunNotificationsRead(runId: string, at: string): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({ read_at: at })
      .where('org_id', '=', this.orgId)
      .where('run_id', '=', runId)
      .where('read_at', 'is', null)
      .execute();
  }

  /** Runs newest first, narrowed by trigger, status and start (`from` inclusive, `to` exclusive, ISO instants). */
  async listRuns(
    limit: number,
    offset: number,
    filter: { trigger?: string; status?: string; from?: string; to?: string } = {},
  ): Promise<RunRecord[]> {
    let query = this.db
      .selectFrom('sync_runs')
      .select(['id', 'trigger', 'actor', 'plan_id', 'status', 'started_at', 'finished_at', 'summary'])
      .where('org_id', '=', this.orgId);
    if (filter.trigger !== undefined) query = query.where('trigger', '=', filter.trigger);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.from !== undefined) query = query.where('started_at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('started_at', '<', filter.to);
    const rows = await query
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toRun);
  }

  /** The newest run of a stored plan (the one that executed it, or the run it is held for). */
  async runOfPlan(planId: string): Promise<{ id: string; status: string } | null> {
    const row = await this.db
      .selectFrom('sync_runs')
      .select(['id', 'status'])
      .where('org_id', '=', this.orgId)
      .where('plan_id', '=', planId)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return row ?? null;
  }

  async getRun(id: string): Promise<(RunRecord & { detail: unknown }) | null> {
    const row = await this.db
      .selectFrom('sync_runs')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { ...toRun(row), detail: row.detail ? unpackJson(row.detail) : null } : null;
  }

  /**
   * Takes the organization's sync lease, or returns who holds it. A lease that was not renewed
   * before it expired is free: its holder is presumed dead. Two syncs racing for an expired lease
   * both run the conditional UPDATE; the database applies them one after the other (a row lock
   * on PostgreSQL, the write lock on SQLite), and the second finds the lease fresh: one winner.
   */
  async acquireLease(holder: string, purpose: string, now: Date, ttlMs: number) {
    const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
    // A lease released between our attempt and our look at it leaves nobody to name: try again.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.db
          .insertInto('sync_leases')
          .values({ org_id: this.orgId, holder, purpose, expires_at: expiresAt })
          .execute();
        return { acquired: true as const };
      } catch (error) {
        if (!this.dialect.isUniqueViolation(error)) throw error;
      }
      const taken = await this.db
        .updateTable('sync_leases')
        .set({ holder, purpose, expires_at: expiresAt })
        .where('org_id', '=', this.orgId)
        .where('expires_at', '<', now.toISOString())
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) return { acquired: true as const };
      const current = await this.db
        .selectFrom('sync_leases')
        .selectAll()
        .where('org_id', '=', this.orgId)
        .executeTakeFirst();
      if (current || attempt === 3)
        return {
          acquired: false as const,
          holder: current?.purpose ?? 'another sync',
          since: current?.expires_at,
        };
    }
  }

  /**
   * Extends the lease `holder` holds, unless it expired or was taken over: false then. An expired
   * lease is never revived, since another process may already have acted on its expiry.
   */
  async renewLease(holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const renewed = await this.db
      .updateTable('sync_leases')
      .set({ expires_at: new Date(now.getTime() + ttlMs).toISOString() })
      .where('org_id', '=', this.orgId)
      .where('holder', '=', holder)
      .where('expires_at', '>=', now.toISOString())
      .executeTakeFirst();
    return Number(renewed.numUpdatedRows) === 1;
  }

  /**
   * Extends the lease `holder` holds whatever its expiry: only for the end of a transaction that
   * locked the lease row (renewLease, at its start) and so kept anyone from taking it since.
   */
  async extendLockedLease(holder: string, now: Date, ttlMs: number): Promise<void> {
    await this.db
      .updateTable('sync_leases')
      .set({ expires_at: new Date(now.getTime() + ttlMs).toISOString() })
      .where('org_id', '=', this.orgId)
      .where('holder', '=', holder)
      .execute();
  }

  async releaseLease(holder: string): Promise<void> {
    await this.db
      .deleteFrom('sync_leases')
      .where('org_id', '=', this.orgId)
      .where('holder', '=', holder)
      .execute();
  }

  /**
   * Closes, as failed with `error`, every run left *running* that holds no live lease: the
   * process running it died (a live sync renews its lease until it has finished its run). An
   * expired lease is dropped first, in the same transaction; on PostgreSQL that DELETE waits for
   * an apply that has the lease row locked, then finds it renewed. Returns the runs closed.
   */
  async closeOrphanedRuns(now: Date, error: { code: string; message: string }): Promise<string[]> {
    const at = now.toISOString();
    const orphans = async (db: Db) =>
      (
        await db
          .selectFrom('sync_runs as r')
          .select('r.id')
          .where('r.org_id', '=', this.orgId)
          .where('r.status', '=', 'running')
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('sync_leases as l')
                  .select('l.holder')
                  .whereRef('l.org_id', '=', 'r.org_id')
                  .whereRef('l.holder', '=', 'r.id')
                  .where('l.expires_at', '>=', at),
              ),
            ),
          )
          .execute()
      ).map((r) => r.id);
    // Reads first: listing runs while a sync runs writes nothing.
    if ((await orphans(this.db)).length === 0) return [];
    const close = async (db: Db) => {
      await db
        .deleteFrom('sync_leases')
        .where('org_id', '=', this.orgId)
        .where('expires_at', '<', at)
        .execute();
      // Again, now that the expired lease is gone: a run whose lease was renewed meanwhile stays.
      const ids = await orphans(db);
      for (const id of ids) {
        await db
          .updateTable('sync_runs')
          .set({
            status: 'failed',
            finished_at: at,
            summary: JSON.stringify({ runId: id, status: 'failed', errors: [error] }),
          })
          .where('org_id', '=', this.orgId)
          .where('id', '=', id)
          .where('status', '=', 'running')
          .execute();
      }
      return ids;
    };
    return this.db.isTransaction
      ? close(this.db)
      : (this.db as Kysely<Database>).transaction().execute(close);
  }
}

function toRun(r: Omit<SyncRunsTable, 'org_id' | 'detail'>): RunRecord {
  return {
    id: r.id,
    trigger: r.trigger,
    actor: r.actor,
    planId: r.plan_id,
    status: r.status,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    summary: JSON.parse(r.summary) as unknown,
  };
}
