import { type Kysely, sql } from 'kysely';
import { type AuditEntry, recordAudit } from './audit.js';
import type { DialectInfo } from './dialect.js';
import type { Database, NotificationsTable, SyncAutomationTable, SyncHealthTable } from './schema.js';

/** What one organization is, as the store knows it (one row of overviewFacts; src/jobs/attention.ts judges it). */
export interface OrgFacts {
  orgId: string;
  name: string;
  domainCount: number;
  /** A saved Entra connection with a client secret. */
  connected: boolean;
  frequencyHours: number | null;
  /** YYYY-MM-DD, as the admin entered it. */
  secretExpiresAt: string | null;
  lastRun: { status: string; startedAt: string } | null;
  lastSuccessAt: string | null;
  heldRunId: string | null;
  consecutiveFailures: number;
  /** JSON of the last error recorded by a failed sync; null once a sync succeeded. */
  lastError: string | null;
  lastFailureAt: string | null;
}

/** What the scheduler needs to know of one connected organization. */
export interface ScheduleCandidate {
  orgId: string;
  frequencyHours: number | null;
  secretExpiresAt: string | null;
  /** Start of the organization's latest run of any trigger (manual runs count too). */
  lastStartedAt: string | null;
  consecutiveFailures: number;
  /** A run waiting for an admin's approval: automatic syncs pause meanwhile. */
  heldRunId: string | null;
}

/** A notification as the console lists it. */
export interface NotificationRecord {
  id: string;
  kind: string;
  title: string;
  message: string;
  runId: string | null;
  createdAt: string;
  readAt: string | null;
  delivery: Record<string, string> | null;
}

export const DEFAULT_SAFEGUARD = { percent: 10, minUsers: 10 } as const;

/**
 * Automation settings, connection health, notifications, and the cross-organization reads of the
 * scheduler. Org-owned rows are always addressed by org_id; only the scheduler's and metrics'
 * reads span organizations, on purpose.
 */
export class JobsRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectInfo,
  ) {}

  /** Appends to the audit log (a change the jobs layer makes, such as an organization's automation). */
  async audit(entry: AuditEntry, at: Date): Promise<void> {
    await recordAudit(this.db, entry, at);
  }

  /**
   * Jobs waiting (created or retrying) in pg-boss's queue `name`: 0 on SQLite, and 0 on
   * PostgreSQL before a worker or scheduler has started (pg-boss has not created its schema yet).
   */
  async pgBossQueueDepth(name: string): Promise<number> {
    if (this.dialect.name !== 'postgres') return 0;
    try {
      const result = await sql<{ n: string }>`
        select count(*) as n from pgboss.job where name = ${name} and state in ('created', 'retry')
      `.execute(this.db);
      return Number(result.rows[0]?.n ?? 0);
    } catch (error) {
      if ((error as { code?: string }).code === '42P01' || (error as { code?: string }).code === '3F000')
        return 0;
      throw error;
    }
  }

  async automation(orgId: string): Promise<SyncAutomationTable | undefined> {
    return this.db.selectFrom('sync_automation').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  async saveAutomation(row: SyncAutomationTable): Promise<void> {
    const { org_id: _o, ...fields } = row;
    const updated = await this.db
      .updateTable('sync_automation')
      .set(fields)
      .where('org_id', '=', row.org_id)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 0)
      await this.db.insertInto('sync_automation').values(row).execute();
  }

  async health(orgId: string): Promise<SyncHealthTable | undefined> {
    return this.db.selectFrom('sync_health').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  }

  /** A sync of the organization (automatic or manual) succeeded: healthy again, the failure streak ends. */
  async recordSuccess(orgId: string, at: string): Promise<void> {
    await this.#upsertHealth(
      orgId,
      { consecutive_failures: 0, last_error: null, last_success_at: at, updated_at: at },
      (db) =>
        db
          .updateTable('sync_health')
          .set({ consecutive_failures: 0, last_error: null, last_success_at: at, updated_at: at })
          .where('org_id', '=', orgId)
          .executeTakeFirst(),
    );
  }

  /**
   * A manual sync (or an approval) failed: the connection is unhealthy, but the failure streak
   * that drives the automatic backoff is left as it is — an admin retrying by hand must not push
   * the schedule out.
   */
  async recordManualFailure(orgId: string, error: unknown, at: string): Promise<void> {
    const lastError = JSON.stringify(error);
    await this.#upsertHealth(
      orgId,
      { consecutive_failures: 0, last_error: lastError, last_failure_at: at, updated_at: at },
      (db) =>
        db
          .updateTable('sync_health')
          .set({ last_error: lastError, last_failure_at: at, updated_at: at })
          .where('org_id', '=', orgId)
          .executeTakeFirst(),
    );
  }

  /** An automatic sync failed: returns the length of the failure streak, which drives the backoff. */
  async recordFailure(orgId: string, error: unknown, at: string): Promise<number> {
    const lastError = JSON.stringify(error);
    await this.#upsertHealth(
      orgId,
      { consecutive_failures: 1, last_error: lastError, last_failure_at: at, updated_at: at },
      (db) =>
        db
          .updateTable('sync_health')
          // Incremented in SQL, so two processes recording at once both count.
          .set((eb) => ({
            consecutive_failures: eb('consecutive_failures', '+', 1),
            last_error: lastError,
            last_failure_at: at,
            updated_at: at,
          }))
          .where('org_id', '=', orgId)
          .executeTakeFirst(),
    );
    return (await this.health(orgId))?.consecutive_failures ?? 1;
  }

  async #upsertHealth(
    orgId: string,
    initial: Partial<SyncHealthTable> & { consecutive_failures: number; updated_at: string },
    update: (db: Kysely<Database>) => Promise<{ numUpdatedRows: bigint }>,
  ): Promise<void> {
    if (Number((await update(this.db)).numUpdatedRows) === 1) return;
    try {
      await this.db
        .insertInto('sync_health')
        .values({
          org_id: orgId,
          last_error: null,
          last_failure_at: null,
          last_success_at: null,
          ...initial,
        })
        .execute();
    } catch (error) {
      // Another process inserted the row first: apply ours on top of it.
      if (!this.dialect.isUniqueViolation(error)) throw error;
      await update(this.db);
    }
  }

  /** Every organization with a saved Entra connection, with what decides its next automatic sync. */
  async candidates(orgIds?: string[]): Promise<ScheduleCandidate[]> {
    let query = this.db
      .selectFrom('entra_settings as e')
      .leftJoin('sync_health as h', 'h.org_id', 'e.org_id')
      .select((eb) => [
        'e.org_id as orgId',
        'e.frequency_hours as frequencyHours',
        'e.secret_expires_at as secretExpiresAt',
        'h.consecutive_failures as consecutiveFailures',
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'e.org_id')
          .select((r) => r.fn.max('r.started_at').as('m'))
          .as('lastStartedAt'),
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'e.org_id')
          .where('r.status', '=', 'held')
          .select((r) => r.fn.min('r.id').as('h'))
          .as('heldRunId'),
      ])
      .where('e.secret_ciphertext', 'is not', null);
    if (orgIds) query = query.where('e.org_id', 'in', orgIds.length > 0 ? orgIds : ['']);
    const rows = await query.execute();
    return rows.map((r) => ({
      orgId: r.orgId,
      frequencyHours: r.frequencyHours,
      secretExpiresAt: r.secretExpiresAt,
      lastStartedAt: r.lastStartedAt ? new Date(r.lastStartedAt).toISOString() : null,
      consecutiveFailures: r.consecutiveFailures ?? 0,
      heldRunId: r.heldRunId ?? null,
    }));
  }

  /**
   * Frees the lease (and closes the run, recording `error`) left by an earlier attempt of the
   * same job, whose process died: the queue only hands a job out again once that attempt has
   * timed out or failed.
   */
  async breakLeaseOf(
    orgId: string,
    purpose: string,
    at: string,
    error: { code: string; message: string },
  ): Promise<string | null> {
    const lease = await this.db
      .selectFrom('sync_leases')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    if (!lease) return null;
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('sync_leases')
        .where('org_id', '=', orgId)
        .where('holder', '=', lease.holder)
        .execute();
      await trx
        .updateTable('sync_runs')
        .set({
          status: 'failed',
          finished_at: at,
          summary: JSON.stringify({ runId: lease.holder, status: 'failed', errors: [error] }),
        })
        .where('org_id', '=', orgId)
        .where('id', '=', lease.holder)
        .where('status', '=', 'running')
        .execute();
    });
    return lease.holder;
  }

  /** Whether a run of the organization (other than `exceptActor`'s) started at or after `since`. */
  async ranSince(orgId: string, since: string, exceptActor: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sync_runs')
      .select('id')
      .where('org_id', '=', orgId)
      .where('started_at', '>=', since)
      .where('actor', '!=', exceptActor)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Records a notification once per dedupe key; null when it was recorded before. */
  async insertNotification(row: NotificationsTable): Promise<NotificationRecord | null> {
    try {
      await this.db.insertInto('notifications').values(row).execute();
    } catch (error) {
      if (this.dialect.isUniqueViolation(error)) return null;
      throw error;
    }
    return toNotification(row);
  }

  async setDelivery(orgId: string, id: string, delivery: Record<string, string>): Promise<void> {
    await this.db
      .updateTable('notifications')
      .set({ delivery: JSON.stringify(delivery) })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .execute();
  }

  async listNotifications(
    orgId: string,
    options: { unreadOnly: boolean; limit: number; offset: number },
  ): Promise<NotificationRecord[]> {
    let query = this.db
      .selectFrom('notifications')
      .selectAll()
      .where('org_id', '=', orgId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(options.limit)
      .offset(options.offset);
    if (options.unreadOnly) query = query.where('read_at', 'is', null);
    return (await query.execute()).map(toNotification);
  }

  /** Marks notifications read (all unread ones when no ids); returns how many changed. */
  async markRead(orgId: string, ids: string[] | null, at: string): Promise<number> {
    let query = this.db
      .updateTable('notifications')
      .set({ read_at: at })
      .where('org_id', '=', orgId)
      .where('read_at', 'is', null);
    if (ids) query = query.where('id', 'in', ids.length > 0 ? ids : ['']);
    return Number((await query.executeTakeFirst()).numUpdatedRows);
  }

  /** Addresses of the organization's active administrators: who is emailed. */
  async adminEmails(orgId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('users')
      .select('email')
      .where('org_id', '=', orgId)
      .where('role', '=', 'org_admin')
      .where('status', '=', 'active')
      .execute();
    return rows.map((r) => r.email);
  }

  /** Users owned by Entra sync: the base of the deletion safeguard's share. */
  async syncedUserCount(orgId: string): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('org_id', '=', orgId)
      .where('source', '=', 'entra')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The latest run that succeeded (with or without conflicts). */
  async lastSuccessfulRun(
    orgId: string,
  ): Promise<{ id: string; startedAt: string; finishedAt: string | null } | null> {
    const row = await this.db
      .selectFrom('sync_runs')
      .select(['id', 'started_at', 'finished_at'])
      .where('org_id', '=', orgId)
      .where('status', 'in', ['succeeded', 'completed_with_conflicts'])
      .orderBy('started_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row ? { id: row.id, startedAt: row.started_at, finishedAt: row.finished_at } : null;
  }

  /**
   * What the operator's overview judges, of every organization, in one query whatever their
   * number: each fact is a column or a subquery on sync_runs' (org_id, started_at) index.
   */
  async overviewFacts(): Promise<OrgFacts[]> {
    const ok = ['succeeded', 'completed_with_conflicts'];
    const rows = await this.db
      .selectFrom('organizations as o')
      .leftJoin('entra_settings as e', 'e.org_id', 'o.id')
      .leftJoin('sync_health as h', 'h.org_id', 'o.id')
      .select((eb) => [
        'o.id as orgId',
        'o.name as name',
        'e.secret_ciphertext as secret',
        'e.frequency_hours as frequencyHours',
        'e.secret_expires_at as secretExpiresAt',
        'h.consecutive_failures as consecutiveFailures',
        'h.last_error as lastError',
        'h.last_failure_at as lastFailureAt',
        eb
          .selectFrom('domains as d')
          .whereRef('d.org_id', '=', 'o.id')
          .select((d) => d.fn.countAll<string | number>().as('n'))
          .as('domainCount'),
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'o.id')
          .select('r.started_at')
          .orderBy('r.started_at', 'desc')
          .orderBy('r.id', 'desc')
          .limit(1)
          .as('lastStartedAt'),
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'o.id')
          .select('r.status')
          .orderBy('r.started_at', 'desc')
          .orderBy('r.id', 'desc')
          .limit(1)
          .as('lastStatus'),
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'o.id')
          .where('r.status', 'in', ok)
          .select((r) => r.fn.max('r.started_at').as('m'))
          .as('lastSuccessAt'),
        eb
          .selectFrom('sync_runs as r')
          .whereRef('r.org_id', '=', 'o.id')
          .where('r.status', '=', 'held')
          .select((r) => r.fn.min('r.id').as('h'))
          .as('heldRunId'),
      ])
      .execute();
    const iso = (value: string | Date | null | undefined) => (value ? new Date(value).toISOString() : null);
    return rows.map((r) => {
      const lastStartedAt = iso(r.lastStartedAt);
      return {
        orgId: r.orgId,
        name: r.name,
        domainCount: Number(r.domainCount ?? 0),
        connected: r.secret !== null && r.secret !== undefined,
        frequencyHours: r.frequencyHours ?? null,
        secretExpiresAt: r.secretExpiresAt ?? null,
        lastRun: lastStartedAt && r.lastStatus ? { status: r.lastStatus, startedAt: lastStartedAt } : null,
        lastSuccessAt: iso(r.lastSuccessAt),
        heldRunId: r.heldRunId ?? null,
        consecutiveFailures: r.consecutiveFailures ?? 0,
        lastError: r.lastError ?? null,
        lastFailureAt: iso(r.lastFailureAt),
      };
    });
  }

  /** Run counts across organizations, by status and trigger (for /metrics). */
  async runCounts(): Promise<{ status: string; trigger: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('sync_runs')
      .select(['status', 'trigger', (eb) => eb.fn.countAll<string | number>().as('n')])
      .groupBy(['status', 'trigger'])
      .execute();
    return rows.map((r) => ({ status: r.status, trigger: r.trigger, n: Number(r.n) }));
  }
}

function toNotification(row: NotificationsTable): NotificationRecord {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    message: row.message,
    runId: row.run_id,
    createdAt: row.created_at,
    readAt: row.read_at,
    delivery: row.delivery ? (JSON.parse(row.delivery) as Record<string, string>) : null,
  };
}
