import type { Transaction } from 'kysely';
import { AppError, invalid, notFound } from '../directory/errors.js';
import type { Group, Organization, User } from '../directory/model.js';
import {
  type ConnectorOptions,
  type DeltaCursor,
  type GraphConnection,
  GraphConnector,
  GraphError,
  type MailboxReads,
  type ReadResult,
} from '../graph/index.js';
import { runError } from '../jobs/run-errors.js';
import { recordAudit } from '../store/audit.js';
import { PackedJson, packJsonAsync } from '../store/blobs.js';
import type { Store } from '../store/database.js';
import { DirectoryRepository } from '../store/directory-repository.js';
import type { Database } from '../store/schema.js';
import { SyncRepository } from '../store/sync-repository.js';
import { applySteps } from '../store/sync-writer.js';
import {
  CATEGORIES,
  type Category,
  type Change,
  type ExpectedLeftOut,
  type Plan,
  SKIP_REASONS,
  type SkippedByReason,
  type SkippedEntry,
  type SkipReason,
  skippedByReason,
} from '../sync/changes.js';
import { billableAfter, plan as makePlan } from '../sync/plan.js';
import type { HowSwitches, SyncPolicy, WhatSwitches } from '../sync/policy.js';
import { type ApplyStep, allChanges, selectChanges } from '../sync/select.js';
import type { SourceSnapshot } from '../sync/source.js';
import type { Runtime } from './clock.js';
import type { EntraSettingsService } from './entra-settings.js';
import { DEFAULT_LEASE_SECONDS, LeaseHeartbeat, type LeaseTiming, leaseTiming } from './lease-heartbeat.js';

/** A preview is kept this long; executing an older one asks for a new preview. */
export const PREVIEW_TTL_MS = 60 * 60 * 1000;

/** Makes the Graph connector for a connection (injected: benchmarks count, tests point at the emulator). */
export type ConnectorFactory = (connection: GraphConnection, options: ConnectorOptions) => GraphConnector;
export const defaultConnectorFactory: ConnectorFactory = (connection, options) =>
  new GraphConnector(connection, options);

/** Who started a sync. */
export type Trigger = 'manual' | 'scheduled';

/** How the source was read for a preview. */
export interface ReadInfo {
  mode: ReadResult['mode'];
  requests: number;
  retries: number;
  throttled: number;
  objects: { users: number; groups: number };
  durationMs: number;
  /**
   * The mailbox purposes this read needed (mailboxes with sign-in blocked) and how it went:
   * `unknown` names the users left to the organization's rule, `issues` says why.
   */
  mailboxes: MailboxReads;
}

/** A stored preview as the CLI and API show it. */
export interface Preview extends Plan {
  /** Billable users now → after the plan, and what the licence covers (null: not tracked). */
  seats: Plan['seats'] & { licensed: number | null };
  planId: string;
  createdAt: string;
  expiresAt: string;
  policy: SyncPolicy;
  read: ReadInfo;
  timings: { readMs: number; planMs: number };
}

/** What a stored preview keeps besides its snapshot and cursor. */
interface PlanBody {
  preview: Preview;
  /** updatedAt of every directory object the plan changes or removes, as the plan saw them. */
  versions: Record<string, string>;
}

/** Where the source of a plan is: read now, packed in a stored preview, or the mirror itself. */
type PlannedSource =
  | { kind: 'read'; snapshot: SourceSnapshot }
  | { kind: 'packed'; blob: Buffer }
  /** A delta read that brought nothing: the source is the mirror as it is. */
  | { kind: 'unchanged' };

/** A plan ready to be stored or applied. */
interface Planned extends PlanBody {
  source: PlannedSource;
  cursor: DeltaCursor;
  /** Whether the preview is in sync_plans already (a held run needs it there). */
  stored: boolean;
  /** The directory plan() compared with, when it was loaded in this call: apply re-uses it. */
  directory: { users: User[]; groups: Group[] } | null;
}

/**
 * What a complete apply (nothing unticked, no conflict) was planned against. While the policy,
 * the domains and the directory stay as they were and a delta read brings no change, the plan is
 * known without planning: nothing to do, with these skipped entries and counts.
 */
interface SyncBasis {
  policy: string;
  domains: string[];
  /** Absent in a basis stored before domains needed proof: such a basis is not reused. */
  pendingDomains?: string[];
  fingerprint: string;
  unchanged: number;
  skipped: Plan['skipped'];
  /** Absent in a basis stored before it was counted: such a basis is not reused. */
  expectedLeftOut?: ExpectedLeftOut;
  switchedOff: Plan['switchedOff'];
  blockedSignIn: Plan['blockedSignIn'];
  /** Billable users once the plan was applied. */
  seats: number;
}

/** One change's outcome in a run (History shows these). */
export interface ChangeOutcome {
  id: string;
  category: Category;
  kind: Change['kind'];
  externalId: string;
  address: string | null;
  name: string;
  outcome: 'applied' | 'excluded' | 'conflict';
  message?: string;
  before?: unknown;
  after?: unknown;
}

export type RunStatus =
  | 'running'
  | 'succeeded'
  | 'completed_with_conflicts'
  | 'failed'
  /** An automatic run the deletion safeguard stopped: nothing applied until an admin approves it. */
  | 'held'
  /** A held run the admin dismissed: nothing applied, ever. */
  | 'dismissed';

/** Why a run was held for review (the deletion safeguard's verdict). */
export interface HoldReason {
  message: string;
  /** Users the plan would remove or deactivate. */
  removals: number;
  /** Users linked to Entra in the directory before the run. */
  syncedUsers: number;
}

/** Decides, from the fresh plan, whether an unattended run must wait for an admin (null: apply). */
export type Safeguard = (preview: Preview) => Promise<HoldReason | null>;

/** A held plan is kept until approved or dismissed, not for the hour of an ordinary preview. */
const HELD_PLAN_EXPIRES_AT = '9999-12-31T00:00:00.000Z';

/** What the plan reader pages: one category of changes, or the skipped entries. */
export const PLAN_PAGES = [...CATEGORIES, 'skipped'] as const;
export type PlanPage = (typeof PLAN_PAGES)[number];
/** The most changes one page of a plan holds, and the furthest a page may start. */
export const PLAN_PAGE_MAX = 500;
export const PLAN_OFFSET_MAX = 10_000_000;

/** What may still be done with a stored plan. */
export type PlanState =
  /** A preview that may be executed. */
  | 'preview'
  /** A preview another sync was applied after: executing it is refused; Search again. */
  | 'stale'
  /** The plan of a run the deletion safeguard held: approve (with unticked changes) or dismiss. */
  | 'held'
  /** Being applied right now. */
  | 'running'
  /** Applied already (by `run`). */
  | 'executed';

/**
 * A stored plan as the console and API read it back — a preview or a held run's plan, the
 * same shape for both: what Search showed (counts, seats, blocked sign-ins, how it was read)
 * and one page of one category.
 */
export interface PlanView extends Omit<Preview, Category | 'skipped' | 'expiresAt'> {
  /** When the preview stops being executable; null for a held run's plan (kept until decided). */
  expiresAt: string | null;
  state: PlanState;
  /** The run that executed the plan, or that it is held for; null for a preview not executed. */
  run: { id: string; status: string } | null;
  /** Changes per category, and the skipped entries. */
  counts: Record<PlanPage, number>;
  /** Of the users to update, those the plan turns inactive (with the removals, what the safeguard counts). */
  deactivations: number;
  page: {
    category: PlanPage;
    offset: number;
    limit: number;
    /** The filter applied (address, name, Entra object id; for skipped entries also the reason). */
    search: string;
    /** The reason code skipped entries are filtered by (category skipped only); null: every reason. */
    reason: SkipReason | null;
    /** Changes (or entries) of the category that match the filter. */
    total: number;
    items: (Change | SkippedEntry)[];
  };
}

/** How a plan page is asked for. */
export interface PlanPageQuery {
  category?: string;
  offset?: number;
  limit?: number;
  search?: string;
  /** Skipped entries of this reason code only (category skipped). */
  reason?: string;
}

/** The result of an execute, as the CLI and API print it. */
export interface RunResult {
  runId: string;
  planId: string | null;
  status: RunStatus;
  applied: Record<Category, number>;
  excluded: number;
  conflicts: { changeId: string; message: string }[];
  skipped: number;
  /** The plan's skipped entries per reason code (every code, zero included). */
  skippedByReason: SkippedByReason;
  /** What the plan left out as expected and only counted (aliases in the tenant's initial domains). */
  expectedLeftOut: ExpectedLeftOut;
  unchanged: number;
  errors: { code: string; message: string; hint?: string }[];
  timings: { readMs: number; planMs: number; applyMs: number };
  /** Billable users before → after its plan, against the licence; null when no plan was made. */
  seats: Preview['seats'] | null;
  /** Set when the run was held for review instead of applied. */
  held?: HoldReason;
  /** A held run's plan: changes per category (nothing of them is applied until approved). */
  planned?: Record<Category, number>;
}

/** Options of one sync. */
export interface SyncOptions {
  /** Overrides the saved what/how for this run only. */
  what?: WhatSwitches;
  how?: HowSwitches;
  /** Objects read so far, per page (for a progress line). */
  onProgress?: ConnectorOptions['onProgress'];
  /** The phase a sync enters: reading Entra, planning, applying. */
  onPhase?: (phase: 'read' | 'plan' | 'apply') => void;
}

/** Preview, execute and history of one organization's Entra sync. */
export class SyncService {
  readonly #repo: SyncRepository;
  readonly #directory: DirectoryRepository;

  constructor(
    private readonly store: Store,
    private readonly org: Organization,
    private readonly settings: EntraSettingsService,
    private readonly runtime: Runtime,
    private readonly connectors: ConnectorFactory = defaultConnectorFactory,
    private readonly lease: LeaseTiming = leaseTiming(DEFAULT_LEASE_SECONDS),
  ) {
    this.#repo = new SyncRepository(store.db, store.dialect, org.id);
    this.#directory = new DirectoryRepository(store.db, org.id);
  }

  /** Reads Entra (delta on top of the last applied read), plans, and stores the plan as a preview. */
  async preview(options: SyncOptions, actor: string): Promise<Preview> {
    const planned = await this.#plan(options);
    await this.#store(planned, actor, planned.preview.expiresAt);
    return planned.preview;
  }

  /**
   * Applies a stored preview minus the unticked changes (or a fresh plan when no planId), in one
   * transaction. Each change is re-checked against the directory as it is now: one whose object
   * changed since the preview is a conflict, not forced. The delta cursor is saved in the same
   * transaction, so it never runs ahead of what was applied.
   */
  async execute(
    input: {
      planId?: string;
      excludedChangeIds?: string[];
      trigger: Trigger;
      /** The new run's id, when the caller wants it before the run starts (to log with it). */
      runId?: string;
      /** Checked before anything is applied; a verdict holds the run for review. */
      safeguard?: Safeguard;
    } & SyncOptions,
    actor: string,
  ): Promise<RunResult> {
    // Bad input (an unknown or expired plan, a typo in the unticked ids) is refused before a run is recorded.
    const preloaded = input.planId ? await this.#storedPlan(input.planId) : null;
    if (preloaded) selectChanges(preloaded.preview, input.excludedChangeIds ?? []);
    const runId = input.runId ?? this.runtime.newId();
    return this.#underLease(runId, `${input.trigger} sync by ${actor}`, async (heartbeat) => {
      await this.#repo.insertRun({
        id: runId,
        trigger: input.trigger,
        actor,
        planId: input.planId ?? null,
        status: 'running',
        startedAt: this.runtime.now().toISOString(),
        finishedAt: null,
        summary: {},
      });
      const timings = { readMs: 0, planMs: 0, applyMs: 0 };
      try {
        const planned = preloaded ?? (await this.#plan(input));
        timings.readMs = planned.preview.timings.readMs;
        timings.planMs = planned.preview.timings.planMs;
        const hold = input.safeguard ? await input.safeguard(planned.preview) : null;
        if (hold) return await this.#hold(runId, planned, hold, actor, timings, heartbeat);
        input.onPhase?.('apply');
        const result = await this.#apply(
          runId,
          planned,
          input.excludedChangeIds ?? [],
          actor,
          timings,
          heartbeat,
        );
        await this.#audit(actor, 'sync.execute', runId, { status: result.status });
        return result;
      } catch (error) {
        return this.#fail(runId, input.planId ?? null, error, timings);
      }
    });
  }

  /**
   * Applies a held run's plan (re-checked against the directory as it is now, like any execute)
   * under the run's own id. Refused when the run is not held or another sync is running.
   */
  async approve(runId: string, actor: string, excludedChangeIds: string[] = []): Promise<RunResult> {
    const run = await this.run(runId);
    if (run.status !== 'held' || !run.planId) throw notHeld(runId, run.status);
    const stored = await this.#loadPlan(run.planId);
    if (!stored) throw notFound(`The plan of held run ${runId} is gone: dismiss it and sync again.`);
    // A typo in the unticked ids is refused before anything is decided.
    selectChanges(stored.planned.preview, excludedChangeIds);
    const planId = run.planId;
    return this.#underLease(runId, `approval by ${actor}`, async (heartbeat) => {
      // Only one approver wins, even when two press the button at once.
      if (!(await this.#repo.transitionRun(runId, 'held', 'running'))) throw notHeld(runId, 'not held');
      const timings = { readMs: 0, planMs: 0, applyMs: 0 };
      try {
        const result = await this.#apply(runId, stored.planned, excludedChangeIds, actor, timings, heartbeat);
        await this.#audit(actor, 'sync.approve', runId, { status: result.status, excluded: result.excluded });
        return result;
      } catch (error) {
        return this.#fail(runId, planId, error, timings);
      }
    });
  }

  /** Drops a held run: nothing of it is applied; the next sync plans afresh. */
  async dismiss(runId: string, actor: string): Promise<void> {
    const run = await this.run(runId);
    if (run.status !== 'held') throw notHeld(runId, run.status);
    if (!(await this.#repo.transitionRun(runId, 'held', 'dismissed'))) throw notHeld(runId, 'not held');
    const now = this.runtime.now().toISOString();
    // Its plan (a whole snapshot) is no longer needed: let the next preview's clean-up drop it.
    if (run.planId) await this.#repo.setPlanExpiry(run.planId, now);
    await this.#audit(actor, 'sync.dismiss', runId);
  }

  /**
   * Runs `work` holding the organization's sync lease, renewed on a timer while it works;
   * refuses while another sync holds it. Runs left *running* by a dead sync are closed first.
   */
  async #underLease<T>(
    runId: string,
    purpose: string,
    work: (heartbeat: LeaseHeartbeat) => Promise<T>,
  ): Promise<T> {
    const { ttlMs, renewEveryMs } = this.lease;
    const lease = await this.#repo.acquireLease(runId, purpose, this.runtime.now(), ttlMs);
    if (!lease.acquired) {
      throw new AppError(
        'conflict',
        `A sync of this organization is already running (${lease.holder}): wait for it to finish, then try again.`,
      );
    }
    const heartbeat = new LeaseHeartbeat(
      () => this.#repo.renewLease(runId, this.runtime.now(), ttlMs),
      renewEveryMs,
    );
    heartbeat.start();
    try {
      await this.#closeOrphanedRuns();
      return await work(heartbeat);
    } finally {
      await heartbeat.stop();
      await this.#repo.releaseLease(runId);
    }
  }

  /** Closes runs whose process died (no live lease) as `worker_lost`. */
  async #closeOrphanedRuns(): Promise<void> {
    await this.#repo.closeOrphanedRuns(this.runtime.now(), runError('worker_lost'));
  }

  /**
   * The fence of a transaction that finishes a run: re-takes the lease at its start (a lost one
   * fails the transaction: another sync may be applying) and extends it at its end, so an apply
   * longer than a lease lifetime commits with a fresh lease. The first UPDATE locks the lease
   * row (PostgreSQL) or the database (SQLite) until commit, so nobody takes it in between.
   */
  async #fenced<T>(
    runId: string,
    heartbeat: LeaseHeartbeat,
    work: (trx: Transaction<Database>) => Promise<T>,
  ): Promise<T> {
    return this.store.db.transaction().execute(async (trx) => {
      const repo = this.#repo.with(trx);
      if (!(await repo.renewLease(runId, this.runtime.now(), this.lease.ttlMs))) {
        throw new AppError(
          'conflict',
          `This sync lost its hold on the organization (${heartbeat.lostBecause}), so another sync may be running; nothing of it was applied. Sync again.`,
        );
      }
      const result = await work(trx);
      await repo.extendLockedLease(runId, this.runtime.now(), this.lease.ttlMs);
      return result;
    });
  }

  /** Records a run as failed with the error's code, text and hint; nothing of it was applied. */
  async #fail(runId: string, planId: string | null, error: unknown, timings: RunResult['timings']) {
    const result = failedResult(runId, planId, error, timings);
    await this.#repo.finishRun(runId, {
      status: 'failed',
      finishedAt: this.runtime.now().toISOString(),
      summary: result,
    });
    return result;
  }

  async #audit(actor: string, action: string, runId: string, detail?: unknown): Promise<void> {
    await recordAudit(
      this.store.db,
      { orgId: this.org.id, actor, action, targetType: 'sync_run', targetId: runId, detail },
      this.runtime.now(),
    );
  }

  /** Runs, newest first. The list leaves out each run's skipped entries (thousands at scale); a run's own page has them. */
  async runs(limit = 50, offset = 0) {
    // A dead sync's run reads failed as soon as anyone looks, not only once the next sync starts.
    await this.#closeOrphanedRuns();
    const runs = await this.#repo.listRuns(limit, offset);
    return runs.map((run) => {
      const { skippedEntries: _skipped, ...summary } = run.summary as { skippedEntries?: unknown };
      return { ...run, summary };
    });
  }

  async run(id: string) {
    await this.#closeOrphanedRuns();
    const run = await this.#repo.getRun(id);
    if (!run) throw notFound(`No sync run ${id} in this organization.`);
    // A run held before held runs recorded their plan's counts: count them from the plan.
    const summary = run.summary as Partial<RunResult> | null;
    if (run.status === 'held' && run.planId && summary && !summary.planned) {
      const stored = await this.#repo.loadPlanBody<PlanBody>(run.planId);
      if (stored) return { ...run, summary: { ...summary, planned: countsOf(stored.body.preview) } };
    }
    return run;
  }

  /**
   * One page of one category of a stored plan — a preview (while it lasts) or a held run's plan —
   * with the plan's summary. Refuses an unknown category or a page out of bounds, and says when
   * the plan expired.
   */
  async planView(planId: string, query: PlanPageQuery = {}): Promise<PlanView> {
    const { category: asked, offset, limit, search, reason } = planPageQuery(query);
    const found = await this.#repo.loadPlanBody<PlanBody>(planId);
    const now = this.runtime.now().toISOString();
    if (!found) {
      throw notFound(
        `No preview ${planId} for this organization: it expired (previews last an hour) or never existed. Search again.`,
      );
    }
    const run = await this.#repo.runOfPlan(planId);
    if (found.expiresAt <= now) {
      throw notFound(
        run?.status === 'dismissed'
          ? `Preview ${planId} belonged to run ${run.id}, which was dismissed: nothing of it was applied. Search again.`
          : `Preview ${planId} has expired (previews last an hour): Search again.`,
      );
    }
    const preview = found.body.preview;
    const held = found.expiresAt === HELD_PLAN_EXPIRES_AT;
    let state: PlanState;
    if (found.usedByRun) state = 'executed';
    else if (run?.status === 'held') state = 'held';
    else if (run?.status === 'running') state = 'running';
    else {
      const applied = await this.#repo.stateUpdatedAt();
      state = applied && applied > found.createdAt ? 'stale' : 'preview';
    }
    const category = asked ?? CATEGORIES.find((c) => preview[c].length > 0) ?? 'usersToAdd';
    const needle = search.toLowerCase();
    if (reason !== null && category !== 'skipped') {
      throw invalid(
        'reason',
        `reason filters skipped entries: ask for category=skipped with reason=${reason}.`,
      );
    }
    const all: (Change | SkippedEntry)[] =
      category === 'skipped'
        ? reason === null
          ? preview.skipped
          : preview.skipped.filter((s) => s.reason === reason)
        : preview[category];
    const matching = needle ? all.filter((item) => haystack(item).includes(needle)) : all;
    const {
      usersToAdd: _ua,
      usersToUpdate,
      usersToRemove: _ur,
      groupsToAdd: _ga,
      groupsToUpdate: _gu,
      groupsToRemove: _gr,
      skipped,
      ...summary
    } = preview;
    return {
      ...summary,
      // Counted from the entries, so a preview stored before these counts existed has them too.
      skippedByReason: skippedByReason(skipped),
      expectedLeftOut: expectedOf(preview),
      expiresAt: held ? null : found.expiresAt,
      state,
      run,
      counts: { ...countsOf(preview), skipped: skipped.length },
      deactivations: usersToUpdate.filter(deactivates).length,
      page: {
        category,
        offset,
        limit,
        search,
        reason,
        total: matching.length,
        items: matching.slice(offset, offset + limit),
      },
    };
  }

  /** Records a run as held: its plan is kept (beyond the preview hour) and nothing is applied. */
  async #hold(
    runId: string,
    planned: Planned,
    hold: HoldReason,
    actor: string,
    timings: RunResult['timings'],
    heartbeat: LeaseHeartbeat,
  ): Promise<RunResult> {
    const { preview } = planned;
    if (!planned.stored) await this.#store(planned, actor, HELD_PLAN_EXPIRES_AT);
    const result: RunResult = {
      runId,
      planId: preview.planId,
      status: 'held',
      applied: zeroCounts(),
      excluded: 0,
      conflicts: [],
      skipped: preview.skipped.length,
      skippedByReason: skippedByReason(preview.skipped),
      expectedLeftOut: expectedOf(preview),
      unchanged: preview.unchanged,
      errors: [],
      timings,
      seats: preview.seats,
      held: hold,
      planned: countsOf(preview),
    };
    await this.#fenced(runId, heartbeat, async (trx) => {
      const repo = this.#repo.with(trx);
      await repo.setPlanExpiry(preview.planId, HELD_PLAN_EXPIRES_AT);
      await repo.finishRun(runId, {
        status: 'held',
        finishedAt: this.runtime.now().toISOString(),
        summary: { ...result, skippedEntries: preview.skipped, read: preview.read, actor },
        planId: preview.planId,
      });
    });
    return result;
  }

  /** Reads Entra (delta on top of the mirror) and plans; stores nothing. */
  async #plan(options: SyncOptions): Promise<Planned> {
    const policy = await this.settings.policy({ what: options.what, how: options.how });
    const connection = await this.settings.connection();
    options.onPhase?.('read');
    const readStart = performance.now();
    const previous = await this.#repo.loadState<SourceSnapshot, DeltaCursor, SyncBasis>();
    const connector = this.connectors(connection, { onProgress: options.onProgress });
    let read: ReadResult;
    try {
      read = previous ? await connector.readChanges(previous) : await connector.readFull();
    } finally {
      await connector.close();
    }
    const readMs = performance.now() - readStart;
    options.onPhase?.('plan');
    const planStart = performance.now();
    const sourceUnchanged = previous !== null && read.mode === 'delta' && read.changes === 0;
    const basis = sourceUnchanged ? await this.#stillValid(previous.basis, policy) : null;
    let result: Plan;
    let directory: Planned['directory'] = null;
    if (basis) {
      result = {
        ...emptyPlan(),
        skipped: basis.skipped,
        skippedByReason: skippedByReason(basis.skipped),
        expectedLeftOut: basis.expectedLeftOut ?? { initialDomainAliases: 0 },
        unchanged: basis.unchanged,
        switchedOff: basis.switchedOff,
        blockedSignIn: basis.blockedSignIn,
        seats: { before: basis.seats, after: basis.seats },
      };
    } else {
      directory = await this.#directory.loadAll();
      result = makePlan(
        {
          orgId: this.org.id,
          domains: this.org.domains,
          pendingDomains: this.org.pendingDomains,
          ...directory,
        },
        read.snapshot,
        policy,
        { sourceComplete: true },
      );
    }
    const planMs = performance.now() - planStart;
    const now = this.runtime.now();
    const preview: Preview = {
      planId: this.runtime.newId(),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + PREVIEW_TTL_MS).toISOString(),
      policy,
      read: {
        mode: read.mode,
        requests: read.stats.requests,
        retries: read.stats.retries,
        throttled: read.stats.throttled,
        objects: { users: read.snapshot.users.length, groups: read.snapshot.groups.length },
        durationMs: Math.round(readMs),
        mailboxes: read.mailboxes,
      },
      timings: { readMs: Math.round(readMs), planMs: Math.round(planMs) },
      ...result,
      seats: { ...result.seats, licensed: this.org.licensedSeats },
    };
    return {
      preview,
      versions: directory ? versionsOf(result, directory.users, directory.groups) : {},
      source: sourceUnchanged ? { kind: 'unchanged' } : { kind: 'read', snapshot: read.snapshot },
      cursor: read.cursor,
      stored: false,
      directory,
    };
  }

  /** The basis of the last complete apply, when this plan would be made against the same. */
  async #stillValid(basis: SyncBasis | null, policy: SyncPolicy): Promise<SyncBasis | null> {
    // A basis stored before seats were counted cannot answer for them: plan in full once.
    if (!basis || basis.seats === undefined || basis.policy !== JSON.stringify(policy)) return null;
    if (basis.expectedLeftOut === undefined) return null;
    if (basis.domains.join() !== this.org.domains.join()) return null;
    if (basis.pendingDomains?.join() !== this.org.pendingDomains.join()) return null;
    return basis.fingerprint === (await this.#directory.fingerprint()) ? basis : null;
  }

  async #store(planned: Planned, actor: string, expiresAt: string): Promise<void> {
    const { preview } = planned;
    await this.#repo.deleteExpiredPlans(this.runtime.now().toISOString());
    await this.#repo.savePlan(
      preview.planId,
      {
        body: { preview, versions: planned.versions } satisfies PlanBody,
        snapshot: await packSource(planned.source),
        cursor: planned.cursor,
      },
      { createdAt: preview.createdAt, expiresAt, createdBy: actor },
    );
    planned.stored = true;
  }

  async #loadPlan(planId: string) {
    const found = await this.#repo.loadPlan<PlanBody, DeltaCursor>(planId);
    if (!found) return null;
    const planned: Planned = {
      ...found.body,
      source: found.snapshot ? { kind: 'packed', blob: found.snapshot } : { kind: 'unchanged' },
      cursor: found.cursor,
      stored: true,
      directory: null,
    };
    return { ...found, planned };
  }

  /** A stored preview that may still be executed, or an error saying why not. */
  async #storedPlan(planId: string): Promise<Planned> {
    const found = await this.#loadPlan(planId);
    if (!found) {
      throw invalid('planId', `No preview ${planId} for this organization: run a new preview (Search).`);
    }
    if (found.usedByRun) {
      throw invalid(
        'planId',
        `Preview ${planId} was executed already (run ${found.usedByRun}): run a new preview.`,
      );
    }
    if (found.expiresAt <= this.runtime.now().toISOString()) {
      throw invalid('planId', `Preview ${planId} has expired (previews last an hour): run a new preview.`);
    }
    const applied = await this.#repo.stateUpdatedAt();
    if (applied && applied > found.createdAt) {
      throw invalid('planId', `Another sync was applied after preview ${planId}: run a new preview.`);
    }
    return found.planned;
  }

  async #apply(
    runId: string,
    planned: Planned,
    excludedIds: string[],
    actor: string,
    timings: RunResult['timings'],
    heartbeat: LeaseHeartbeat,
  ): Promise<RunResult> {
    const { preview } = planned;
    const selection = selectChanges(preview, excludedIds);
    const applyStart = performance.now();
    const writes = selection.steps.some((s) => s.changes.length > 0);
    // The directory the plan saw is re-used when it was loaded in this very call; a stored
    // preview is re-checked against the directory as it is now.
    const current = writes
      ? (planned.directory ?? (await this.#directory.loadAll()))
      : { users: [], groups: [] };
    const users = new Map(current.users.map((u) => [u.id, u]));
    const groups = new Map(current.groups.map((g) => [g.id, g]));
    const conflicts = recheck(selection.steps, planned.versions, users, groups);
    const steps = selection.steps.map(
      (s) => ({ ...s, changes: s.changes.filter((c) => !conflicts.has(c.id)) }) as ApplyStep,
    );
    const excluded = new Set(selection.excluded.map((c) => c.id));
    const outcomes = outcomesOf(preview, excluded, conflicts);
    const applied = zeroCounts();
    for (const o of outcomes) if (o.outcome === 'applied') applied[o.category]++;
    const result: RunResult = {
      runId,
      planId: preview.planId,
      status: conflicts.size > 0 ? 'completed_with_conflicts' : 'succeeded',
      applied,
      excluded: excluded.size,
      conflicts: [...conflicts].map(([changeId, message]) => ({ changeId, message })),
      skipped: preview.skipped.length,
      skippedByReason: skippedByReason(preview.skipped),
      expectedLeftOut: expectedOf(preview),
      unchanged: preview.unchanged,
      errors: [],
      timings,
      seats: {
        ...preview.seats,
        // What was applied, unticked changes and conflicts left out.
        after: writes
          ? billableAfter(
              current.users,
              steps.flatMap((s) => s.changes as Change[]),
            )
          : preview.seats.before,
      },
    };
    // Both blobs are compressed on the thread pool while the changes are written.
    const packing = Promise.all([packSource(planned.source), packJsonAsync(outcomes)]);
    // Settled by the await below; this only keeps a rejection while the writes run from being unhandled.
    packing.catch(() => undefined);
    await this.#fenced(runId, heartbeat, async (trx) => {
      const now = this.runtime.now().toISOString();
      if (writes) {
        await applySteps(trx, steps, { orgId: this.org.id, newId: this.runtime.newId, now, users, groups });
      }
      const complete = excluded.size === 0 && conflicts.size === 0;
      const basis: SyncBasis | null = complete
        ? {
            policy: JSON.stringify(preview.policy),
            domains: this.org.domains,
            pendingDomains: this.org.pendingDomains,
            fingerprint: await this.#directory.with(trx).fingerprint(),
            // Everything planned is now applied: next time those objects are unchanged too.
            unchanged:
              preview.unchanged +
              applied.usersToAdd +
              applied.usersToUpdate +
              applied.groupsToAdd +
              applied.groupsToUpdate,
            skipped: preview.skipped,
            expectedLeftOut: expectedOf(preview),
            switchedOff: preview.switchedOff,
            blockedSignIn: preview.blockedSignIn,
            seats: preview.seats.after,
          }
        : null;
      const repo = this.#repo.with(trx);
      const [snapshot, detail] = await packing;
      await repo.saveState({ snapshot, cursor: planned.cursor, basis }, now);
      if (planned.stored) await repo.markPlanUsed(preview.planId, runId);
      timings.applyMs = Math.round(performance.now() - applyStart);
      await repo.finishRun(runId, {
        status: result.status,
        finishedAt: this.runtime.now().toISOString(),
        summary: { ...result, skippedEntries: preview.skipped, read: preview.read, actor },
        detail: new PackedJson(detail),
        planId: planned.stored ? preview.planId : null,
      });
    });
    return result;
  }
}

/** The packed snapshot to store, or null when the source is the mirror unchanged. */
async function packSource(source: PlannedSource): Promise<Buffer | null> {
  switch (source.kind) {
    case 'read':
      return packJsonAsync(source.snapshot);
    case 'packed':
      return source.blob;
    case 'unchanged':
      return null;
  }
}

function emptyPlan(): Plan {
  return {
    usersToAdd: [],
    usersToUpdate: [],
    usersToRemove: [],
    groupsToAdd: [],
    groupsToUpdate: [],
    groupsToRemove: [],
    skipped: [],
    skippedByReason: skippedByReason([]),
    expectedLeftOut: { initialDomainAliases: 0 },
    unchanged: 0,
    switchedOff: zeroCounts(),
    blockedSignIn: { functional: 0, person: 0, rule: 0 },
    seats: { before: 0, after: 0 },
  };
}

/** The updatedAt of every object a plan targets, to detect changes made after the preview. */
function versionsOf(plan: Plan, users: User[], groups: Group[]): Record<string, string> {
  const updatedAt = new Map<string, string>([...users, ...groups].map((o) => [o.id, o.updatedAt]));
  const versions: Record<string, string> = {};
  for (const change of allChanges(plan)) {
    const id = targetId(change);
    if (id && updatedAt.has(id)) versions[id] = updatedAt.get(id)!;
  }
  return versions;
}

function targetId(change: Change): string | null {
  switch (change.kind) {
    case 'update_user':
    case 'remove_user':
      return change.userId;
    case 'update_group':
    case 'remove_group':
      return change.groupId;
    default:
      return null;
  }
}

/**
 * Compares each selected change with the directory now. Returns the conflicting change ids and
 * why: the object changed or vanished since the preview, or an object to add exists already.
 */
function recheck(
  steps: ApplyStep[],
  versions: Record<string, string>,
  users: Map<string, User>,
  groups: Map<string, Group>,
): Map<string, string> {
  const conflicts = new Map<string, string>();
  const linkedExt = new Set<string>();
  const held = new Set<string>();
  for (const o of [...users.values(), ...groups.values()]) {
    if (o.externalId) linkedExt.add(o.externalId);
    if (o.email) held.add(o.email);
    for (const a of o.aliases) held.add(a);
  }
  for (const step of steps) {
    for (const change of step.changes) {
      if (conflicts.has(change.id)) continue;
      if (change.kind === 'add_user' || change.kind === 'add_group') {
        if (linkedExt.has(change.externalId)) {
          conflicts.set(
            change.id,
            `${change.name} was added to the directory since the preview: preview again.`,
          );
          continue;
        }
        const record = change.kind === 'add_user' ? change.user : change.group;
        const taken = [record.email, ...record.aliases].find((a) => a !== null && held.has(a));
        if (taken)
          conflicts.set(change.id, `${taken} was taken by another object since the preview: preview again.`);
        continue;
      }
      const id = targetId(change)!;
      const now =
        change.kind === 'update_user' || change.kind === 'remove_user' ? users.get(id) : groups.get(id);
      if (!now) conflicts.set(change.id, `${change.name} no longer exists in the directory.`);
      else if (now.updatedAt !== versions[id]) {
        conflicts.set(
          change.id,
          `${change.name} was changed in the directory since the preview: preview again to see the current difference.`,
        );
      }
    }
  }
  return conflicts;
}

const CATEGORY_OF: Record<Change['kind'], Category> = {
  add_user: 'usersToAdd',
  update_user: 'usersToUpdate',
  remove_user: 'usersToRemove',
  add_group: 'groupsToAdd',
  update_group: 'groupsToUpdate',
  remove_group: 'groupsToRemove',
};

function outcomesOf(plan: Plan, excluded: Set<string>, conflicts: Map<string, string>): ChangeOutcome[] {
  return allChanges(plan).map((c) => {
    const outcome: ChangeOutcome = {
      id: c.id,
      category: CATEGORY_OF[c.kind],
      kind: c.kind,
      externalId: c.externalId,
      address: c.address,
      name: c.name,
      outcome: excluded.has(c.id) ? 'excluded' : conflicts.has(c.id) ? 'conflict' : 'applied',
    };
    const message = conflicts.get(c.id);
    if (message) outcome.message = message;
    if (c.kind === 'update_user' || c.kind === 'update_group') {
      outcome.before = c.before;
      outcome.after = c.after;
    }
    return outcome;
  });
}

function notHeld(runId: string, status: string): AppError {
  return new AppError(
    'conflict',
    `Run ${runId} is not held for review (it is ${status}): nothing to decide.`,
  );
}

function failedResult(
  runId: string,
  planId: string | null,
  error: unknown,
  timings: RunResult['timings'],
): RunResult {
  return {
    runId,
    planId,
    status: 'failed',
    applied: zeroCounts(),
    excluded: 0,
    conflicts: [],
    skipped: 0,
    skippedByReason: skippedByReason([]),
    expectedLeftOut: { initialDomainAliases: 0 },
    unchanged: 0,
    errors: [describeFailure(error)],
    timings,
    seats: null,
  };
}

function zeroCounts(): Record<Category, number> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
}

/** A failure as a run records it: a stable code, Microsoft's or our text, and what to do. */
function describeFailure(error: unknown): { code: string; message: string; hint?: string } {
  if (error instanceof GraphError)
    return { code: error.code, message: error.detail || error.message, hint: error.hint };
  if (error instanceof AppError) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}

/** A plan's expected-left-out counts (zero for a preview stored before they were counted). */
function expectedOf(plan: Partial<Pick<Plan, 'expectedLeftOut'>>): ExpectedLeftOut {
  return plan.expectedLeftOut ?? { initialDomainAliases: 0 };
}

/** Changes per category of a plan. */
function countsOf(plan: Plan): Record<Category, number> {
  return Object.fromEntries(CATEGORIES.map((c) => [c, plan[c].length])) as Record<Category, number>;
}

/** A user update that turns an active user inactive. */
function deactivates(change: Plan['usersToUpdate'][number]): boolean {
  return change.after.status === 'inactive' && change.before.status !== 'inactive';
}

/** What a plan page's filter matches: address, name, Entra object id (and a skipped entry's reason). */
function haystack(item: Change | SkippedEntry): string {
  const text =
    'kind' in item
      ? `${item.address ?? ''} ${item.name} ${item.externalId}`
      : `${item.address ?? ''} ${item.name ?? ''} ${item.externalId ?? ''} ${item.reason} ${item.message}`;
  return text.toLowerCase();
}

/** A plan page query checked: a known category (the first with changes by default), bounded paging. */
function planPageQuery(query: PlanPageQuery): {
  category: PlanPage | undefined;
  offset: number;
  limit: number;
  search: string;
  reason: SkipReason | null;
} {
  const category = query.category;
  if (category !== undefined && !(PLAN_PAGES as readonly string[]).includes(category)) {
    throw invalid('category', `Unknown category "${category}": use one of ${PLAN_PAGES.join(', ')}.`);
  }
  const offset = query.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset > PLAN_OFFSET_MAX) {
    throw invalid('offset', `offset must be a whole number from 0 to ${PLAN_OFFSET_MAX}.`);
  }
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > PLAN_PAGE_MAX) {
    throw invalid('limit', `limit must be a whole number from 1 to ${PLAN_PAGE_MAX}.`);
  }
  const search = (query.search ?? '').trim();
  if (search.length > 200) throw invalid('search', 'search must be at most 200 characters.');
  const reason = query.reason ?? null;
  if (reason !== null && !(SKIP_REASONS as readonly string[]).includes(reason)) {
    throw invalid('reason', `Unknown reason "${reason}": use one of ${SKIP_REASONS.join(', ')}.`);
  }
  return {
    category: category as PlanPage | undefined,
    offset,
    limit,
    search,
    reason: reason as SkipReason | null,
  };
}
