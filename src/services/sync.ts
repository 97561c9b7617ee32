import { PLAN_OFFSET_MAX, PLAN_PAGE_MAX } from '../contract/limits.js';
import type {
  ChangeOutcome,
  HoldReason,
  OutcomeGroup,
  OutcomeUser,
  PlanView,
  Preview,
  ReadInfo,
  RunDecision,
  RunResult,
  SyncRun,
  SyncRunDetail,
} from '../contract/sync.js';
import { PLAN_PAGES, type PLAN_STATES, RUN_STATUSES, TRIGGERS } from '../contract/sync.js';
import { AppError, invalid, notFound } from '../directory/errors.js';
import type { Group, GroupKind, MemberRef, Organization, User } from '../directory/model.js';
import { isFunctional } from '../directory/recipients.js';
import {
  type ConnectorOptions,
  type DeltaCursor,
  type GraphConnection,
  GraphConnector,
  GraphError,
  type ReadOnto,
} from '../graph/index.js';
import { recordAudit } from '../store/audit.js';
import { PackedJson, packJsonAsync, unpackJsonAsync } from '../store/blobs.js';
import { inTransaction, type Store, type StoreTransaction } from '../store/database.js';
import { DirectoryRepository } from '../store/directory-repository.js';
import { SourceRepository } from '../store/source-repository.js';
import { SyncRepository } from '../store/sync-repository.js';
import { applySteps } from '../store/sync-writer.js';
import {
  CATEGORIES,
  type Category,
  type Change,
  type ExpectedLeftOut,
  emptyPlan,
  type Plan,
  type PlannedMember,
  SKIP_REASONS,
  type SkippedEntry,
  type SkipReason,
  skippedByReason,
  type UpdateUserChange,
  zeroCounts,
} from '../sync/changes.js';
import type { CsvCell } from '../sync/csv.js';
import { isDeactivation } from '../sync/deactivation.js';
import {
  type ClosedFocus,
  closeFocus,
  deltaRelations,
  directoryKeys,
  emptyTally,
  type FocusBasis,
  focusBasis,
  focusedPlan,
  focusSources,
  indexRelations,
  indexSources,
  type JudgedShares,
  judge,
  type SourceRelations,
  sharedTally,
  unshared,
  unsteadyKeys,
  unsteadySeeds,
  WholeGroupNeeded,
} from '../sync/focus.js';
import { billableAfter, plan as makePlan } from '../sync/plan.js';
import type { HowSwitches, SyncPolicy, WhatSwitches } from '../sync/policy.js';
import { type ApplyStep, allChanges, selectChanges } from '../sync/select.js';
import { applyDelta, deltaIds, type SourceDelta, type SourceSnapshot } from '../sync/source.js';
import { sourceChanges } from '../sync/source-changes.js';
import type { Runtime } from './clock.js';
import type { EntraSettingsService } from './entra-settings.js';
import { DEFAULT_LEASE_SECONDS, LeaseHeartbeat, type LeaseTiming, leaseTiming } from './lease-heartbeat.js';
import { PlanBodyCache } from './plan-cache.js';
import { runError } from './run-errors.js';

/** A preview is kept this long; executing an older one asks for a new preview. */
export const PREVIEW_TTL_MS = 60 * 60 * 1000;

/**
 * Packed plan bodies the plan reader keeps parsed in memory (see PlanBodyCache): a
 * 100k-change preview packs to a few MB and parses to roughly 15× that.
 */
const PLAN_CACHE_PACKED_BYTES = 16 * 1024 * 1024;

/** Makes the Graph connector for a connection (injected: benchmarks count, tests point at the emulator). */
export type ConnectorFactory = (connection: GraphConnection, options: ConnectorOptions) => GraphConnector;
export const defaultConnectorFactory: ConnectorFactory = (connection, options) =>
  new GraphConnector(connection, options);

/** Who started a sync. */
export { TRIGGERS };
export type Trigger = (typeof TRIGGERS)[number];

// The shapes that cross the wire: static types of the HTTP contract's schemas (src/contract/sync.ts).
export type {
  ChangeOutcome,
  HoldReason,
  OutcomeGroup,
  OutcomeUser,
  PlanView,
  Preview,
  ReadInfo,
  RunDecision,
  RunResult,
  SyncRun,
  SyncRunDetail,
};

/** What a stored preview keeps besides its snapshot and cursor. */
interface PlanBody {
  preview: Preview;
  /** updatedAt of every directory object the plan changes or removes, as the plan saw them. */
  versions: Record<string, string>;
  /** The directory's fingerprint when planned: an apply onto another directory leaves no focus basis. */
  fingerprint?: string;
  /** A plan made from the basis without planning: the focus basis its apply carries on. */
  focus?: FocusBasis;
  /**
   * A focused plan's objects, each with its share of the counts: its apply's focus basis sums
   * those of the objects it leaves unsteady instead of judging them again.
   */
  shares?: JudgedShares;
}

/** Where the source of a plan is: read now, packed in a stored preview, or the mirror itself. */
type PlannedSource =
  /** `mirror`: the source mirror as this call loaded it (null: none yet), what the apply writes the difference to. */
  | { kind: 'read'; snapshot: SourceSnapshot; mirror: SourceSnapshot | null }
  | { kind: 'packed'; blob: Buffer }
  /** A delta read's changes, as records: the source is the mirror with them applied. */
  | { kind: 'delta'; delta: SourceDelta }
  /** A delta read that brought nothing: the source is the mirror as it is. */
  | { kind: 'unchanged' };

/** A plan ready to be stored or applied. */
interface Planned extends PlanBody {
  source: PlannedSource;
  cursor: DeltaCursor;
  /** Whether the preview is in sync_plans already (a held run needs it there). */
  stored: boolean;
  /**
   * The directory plan() compared with, when it was loaded in this call: apply re-uses it.
   * `partial`: only the rows a focused plan read (src/sync/focus.ts) — every object a change targets.
   */
  directory: { users: User[]; groups: Group[]; partial?: boolean } | null;
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
  /**
   * What the next plan needs to judge only what a delta changed (src/sync/focus.ts). Absent in a
   * basis stored before it existed, or when it could not be made: the next changed read plans in full.
   * With unsteady objects (e.g. unticked changes) the basis cannot stand for a plan without planning.
   */
  focus?: FocusBasis;
}

/** Which runs to list: each filter narrows, absent ones do not. */
export interface RunFilter {
  trigger?: Trigger;
  status?: RunStatus;
  /** Runs started at or after this ISO instant. */
  from?: string;
  /** Runs started before this ISO instant. */
  to?: string;
}

/**
 * What became of a run: running, succeeded, completed_with_conflicts, failed; held (an automatic
 * run the deletion safeguard stopped: nothing applied until an admin approves it); dismissed (a
 * held run the admin dropped: nothing applied, ever).
 */
export { RUN_STATUSES };
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Decides, from the fresh plan, whether an unattended run must wait for an admin (null: apply). */
export type Safeguard = (preview: Preview) => Promise<HoldReason | null>;

/** A held plan is kept until approved or dismissed, not for the hour of an ordinary preview. */
const HELD_PLAN_EXPIRES_AT = '9999-12-31T00:00:00.000Z';

/** What the plan reader pages: one category of changes, or the skipped entries. */
export { PLAN_PAGES };
export type PlanPage = (typeof PLAN_PAGES)[number];
/** The most changes one page of a plan holds, and the furthest a page may start. */
export { PLAN_OFFSET_MAX, PLAN_PAGE_MAX };

/** What may still be done with a stored plan (src/contract/sync.ts PLAN_STATES says each). */
export type PlanState = (typeof PLAN_STATES)[number];

/** How a plan page is asked for. */
export interface PlanPageQuery {
  category?: string;
  offset?: number;
  limit?: number;
  search?: string;
  /** Skipped entries of this reason code only (category skipped). */
  reason?: string;
}

/** Options of one sync. */
export interface SyncOptions {
  /** Overrides the saved what/how for this run only. */
  what?: WhatSwitches;
  how?: HowSwitches;
  /** Pages and objects read so far, per collection, after every page (for progress). */
  onProgress?: ConnectorOptions['onProgress'];
  /** The phase a sync enters: reading Entra, planning, storing the preview, applying. */
  onPhase?: (phase: SyncPhase) => void;
  /**
   * Stops a preview: the read at its next page, or after planning; the preview rejects with the
   * signal's reason and stores nothing.
   */
  signal?: AbortSignal;
  /**
   * Internal (tests, measurements): plan in full even where a focused plan is possible, to
   * compare the two. Not a user-facing switch.
   */
  fullPlan?: boolean;
}

/**
 * Focused planning after an apply (src/sync/focus.ts): on, unless a test or measurement turns it
 * off to compare. Off means every changed read plans in full, as before.
 */
export const FOCUSED_PLANNING = true;

/** What a sync is doing: reading Entra, planning, storing the preview (previews), applying (runs). */
export type SyncPhase = 'read' | 'plan' | 'store' | 'apply';

/** What a caller hangs on a SyncService: told of runs it cares about, without a subclass. */
export interface SyncHooks {
  /**
   * A run done by a person: a manual execute or an approval, whatever its outcome (App feeds the
   * connection's health with it; automatic runs are the jobs runner's to record).
   */
  afterManualRun?: (result: RunResult) => Promise<void>;
}

/** Preview, execute and history of one organization's Entra sync. */
export class SyncService {
  readonly #repo: SyncRepository;
  readonly #directory: DirectoryRepository;
  readonly #mirror: SourceRepository;

  constructor(
    private readonly store: Store,
    private readonly org: Organization,
    private readonly settings: EntraSettingsService,
    private readonly runtime: Runtime,
    private readonly connectors: ConnectorFactory = defaultConnectorFactory,
    private readonly lease: LeaseTiming = leaseTiming(DEFAULT_LEASE_SECONDS),
    private readonly hooks: SyncHooks = {},
  ) {
    this.#repo = new SyncRepository(store.db, store.dialect, org.id);
    this.#directory = new DirectoryRepository(store.db, org.id);
    this.#mirror = new SourceRepository(store.db, store.dialect, org.id);
  }

  /** Reads Entra (delta on top of the last applied read), plans, and stores the plan as a preview. */
  async preview(options: SyncOptions, actor: string): Promise<Preview> {
    const planned = await this.#plan(options);
    // Planning cannot stop half-way; a search cancelled meanwhile stores nothing.
    options.signal?.throwIfAborted();
    options.onPhase?.('store');
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
    const result = await this.#underLease(runId, `${input.trigger} sync by ${actor}`, async (heartbeat) => {
      const startedAt = this.runtime.now().toISOString();
      await this.#repo.insertRun({
        id: runId,
        trigger: input.trigger,
        actor,
        planId: input.planId ?? null,
        status: 'running',
        startedAt,
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
        await this.#audit(
          actor,
          'sync.execute',
          { id: runId, trigger: input.trigger, startedAt },
          {
            status: result.status,
          },
        );
        return result;
      } catch (error) {
        return this.#fail(runId, input.planId ?? null, error, timings);
      }
    });
    if (input.trigger === 'manual') await this.hooks.afterManualRun?.(result);
    return result;
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
    const outcome = await this.#underLease(runId, `approval by ${actor}`, async (heartbeat) => {
      // Only one approver wins, even when two press the button at once.
      if (!(await this.#repo.transitionRun(runId, 'held', 'running'))) throw notHeld(runId, 'not held');
      const decision: RunDecision = { action: 'approved', by: actor, at: this.runtime.now().toISOString() };
      const timings = { readMs: 0, planMs: 0, applyMs: 0 };
      let result: RunResult;
      try {
        result = await this.#apply(
          runId,
          stored.planned,
          excludedChangeIds,
          actor,
          timings,
          heartbeat,
          decision,
        );
      } catch (error) {
        result = await this.#fail(runId, planId, error, timings, decision);
      }
      // Decided, applied or failed, the held plan is never needed again: the next preview's clean-up drops it.
      await this.#expirePlan(planId);
      // "A sync waits for approval" is answered: it no longer counts as unread.
      await this.#repo.markRunNotificationsRead(runId, decision.at);
      await this.#audit(actor, 'sync.approve', run, { status: result.status, excluded: result.excluded });
      return result;
    });
    // An approval applies a plan by an admin's hand: it counts as a manual run.
    await this.hooks.afterManualRun?.(outcome);
    return outcome;
  }

  /** Drops a held run: nothing of it is applied; the next sync plans afresh. */
  async dismiss(runId: string, actor: string): Promise<void> {
    const run = await this.run(runId);
    if (run.status !== 'held') throw notHeld(runId, run.status);
    const decision: RunDecision = { action: 'dismissed', by: actor, at: this.runtime.now().toISOString() };
    const summary = { ...(run.summary as object), decision };
    if (!(await this.#repo.transitionRun(runId, 'held', 'dismissed', summary)))
      throw notHeld(runId, 'not held');
    // Its plan (a whole snapshot) is no longer needed: let the next preview's clean-up drop it.
    if (run.planId) await this.#expirePlan(run.planId);
    await this.#repo.markRunNotificationsRead(runId, decision.at);
    await this.#audit(actor, 'sync.dismiss', run);
  }

  /** Lets a stored plan expire now (a decided held run's), here and in the parsed-plan cache. */
  async #expirePlan(planId: string): Promise<void> {
    await this.#repo.setPlanExpiry(planId, this.runtime.now().toISOString());
    planBodies.forget(this.org.id, planId);
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
    work: (trx: StoreTransaction) => Promise<T>,
  ): Promise<T> {
    return inTransaction(this.store, async (trx) => {
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
  async #fail(
    runId: string,
    planId: string | null,
    error: unknown,
    timings: RunResult['timings'],
    decision?: RunDecision,
  ): Promise<RunResult> {
    const result: RunResult = {
      ...failedResult(runId, planId, error, timings),
      ...(decision ? { decision } : {}),
    };
    await this.#repo.finishRun(runId, {
      status: 'failed',
      finishedAt: this.runtime.now().toISOString(),
      summary: result,
    });
    return result;
  }

  /** Audits a decision on a run, naming it by trigger and start so the log reads well without ids. */
  async #audit(
    actor: string,
    action: string,
    run: { id: string; trigger: string; startedAt: string },
    detail?: unknown,
  ): Promise<void> {
    await recordAudit(
      this.store.db,
      {
        orgId: this.org.id,
        actor,
        action,
        targetType: 'sync_run',
        targetId: run.id,
        targetLabel: runLabel(run),
        detail,
      },
      this.runtime.now(),
    );
  }

  /**
   * Runs, newest first, narrowed by `filter` (checked: an unknown trigger or status, or a bad
   * date, is refused by name). The list leaves out each run's skipped entries (thousands at
   * scale); a run's own page has them.
   */
  async runs(limit = 50, offset = 0, filter: RunFilterQuery = {}): Promise<SyncRun[]> {
    const checked = runFilter(filter);
    // A dead sync's run reads failed as soon as anyone looks, not only once the next sync starts.
    await this.#closeOrphanedRuns();
    const runs = await this.#repo.listRuns(limit, offset, checked);
    return runs.map((run) => {
      const { skippedEntries: _skipped, ...summary } = run.summary as { skippedEntries?: unknown };
      // Stored JSON this service wrote (src/contract/sync.ts RunSummarySchema holds every version of it).
      return { ...run, summary } as SyncRun;
    });
  }

  async run(id: string): Promise<SyncRunDetail> {
    await this.#closeOrphanedRuns();
    const run = await this.#repo.getRun(id);
    if (!run) throw notFound(`No sync run ${id} in this organization.`);
    // A run held before held runs recorded their plan's counts: count them from the plan.
    const summary = run.summary as Partial<RunResult> | null;
    if (run.status === 'held' && run.planId && summary && !summary.planned) {
      const stored = await this.#repo.loadPlanBody<PlanBody>(run.planId);
      if (stored)
        return { ...run, summary: { ...summary, planned: countsOf(stored.body.preview) } } as SyncRunDetail;
    }
    return run as SyncRunDetail;
  }

  /**
   * One page of one category of a stored plan — a preview (while it lasts) or a held run's plan —
   * with the plan's summary. Refuses an unknown category or a page out of bounds, and says when
   * the plan expired.
   */
  async planView(planId: string, query: PlanPageQuery = {}): Promise<PlanView> {
    const { category: asked, offset, limit, search, reason } = planPageQuery(query);
    const { found, run } = await this.#readablePlan(planId);
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
      deactivations: deactivationsOf(usersToUpdate),
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

  /**
   * Every change of a stored plan (a preview while it lasts, or a held run's plan) and its
   * skipped entries, as CSV rows: category, change id, kind, address, name, detail.
   */
  async planCsv(planId: string): Promise<CsvCell[][]> {
    const { preview } = (await this.#readablePlan(planId)).found.body;
    const rows: CsvCell[][] = [['category', 'id', 'kind', 'externalId', 'address', 'name', 'detail']];
    for (const c of allChanges(preview)) {
      rows.push([CATEGORY_OF[c.kind], c.id, c.kind, c.externalId, c.address, c.name, changeText(c)]);
    }
    for (const e of preview.skipped) {
      rows.push(['skipped', '', e.objectType, e.externalId, e.address, e.name, `${e.reason}: ${e.message}`]);
    }
    return rows;
  }

  /** Every change of a run with its outcome, as CSV rows (a run recorded no changes: the header only). */
  async runCsv(runId: string): Promise<CsvCell[][]> {
    const run = await this.run(runId);
    const rows: CsvCell[][] = [
      ['category', 'id', 'kind', 'externalId', 'address', 'name', 'outcome', 'message', 'detail'],
    ];
    for (const o of (run.detail as ChangeOutcome[] | null) ?? []) {
      rows.push([
        o.category,
        o.id,
        o.kind,
        o.externalId,
        o.address,
        o.name,
        o.outcome,
        o.message,
        outcomeText(o),
      ]);
    }
    return rows;
  }

  /**
   * A stored plan that may still be read, with the run that executed it or is held for it; not
   * found when it is gone or expired (saying so). The parsed body comes from the process's cache
   * when it is there: a body never changes, and the expiry is read fresh every time.
   */
  async #readablePlan(planId: string) {
    const meta = await this.#repo.planMeta(planId);
    let body = meta ? planBodies.get(this.org.id, planId) : undefined;
    if (meta && !body) {
      const loaded = await this.#repo.loadPlanBody<PlanBody>(planId);
      if (loaded) {
        body = loaded.body;
        planBodies.set(this.org.id, planId, body, loaded.packedBytes);
      }
    }
    if (!meta || !body) {
      throw notFound(
        `No preview ${planId} for this organization: it expired (previews last an hour) or never existed. Search again.`,
      );
    }
    const run = await this.#repo.runOfPlan(planId);
    if (meta.expiresAt <= this.runtime.now().toISOString()) {
      planBodies.forget(this.org.id, planId);
      throw notFound(
        run?.status === 'dismissed'
          ? `Preview ${planId} belonged to run ${run.id}, which was dismissed: nothing of it was applied. Search again.`
          : run && run.status !== 'held' && run.status !== 'running'
            ? `Preview ${planId} was applied by run ${run.id} and is no longer kept: see that run in the history.`
            : `Preview ${planId} has expired (previews last an hour): Search again.`,
      );
    }
    return { found: { ...meta, body }, run };
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
    const previous = await this.#repo.loadState<DeltaCursor, SyncBasis>();
    // The mirror is asked for the records a delta names; it is loaded whole only for a plan in
    // full or a collection read in full again (its delta link expired), and then once.
    let loaded: Promise<SourceSnapshot> | undefined;
    const wholeMirror = () => {
      loaded ??= this.#mirror.load();
      return loaded;
    };
    const mirror = {
      users: (ids: readonly string[]) => this.#mirror.users(ids),
      groups: (ids: readonly string[]) => this.#mirror.groups(ids),
      load: wholeMirror,
    };
    const connector = this.connectors(connection, { onProgress: options.onProgress, signal: options.signal });
    let read: ReadOnto;
    try {
      read = previous
        ? await connector.readChangesOnto({ cursor: previous.cursor, mirror })
        : await connector.readFull();
    } finally {
      await connector.close();
    }
    const readMs = performance.now() - readStart;
    options.signal?.throwIfAborted();
    options.onPhase?.('plan');
    const planStart = performance.now();
    const sourceUnchanged = previous !== null && read.mode === 'delta' && read.changes === 0;
    // The whole source: read whole, or the mirror with the delta applied.
    let whole: SourceSnapshot | undefined;
    const nextSource = async () => {
      whole ??= read.snapshot ?? applyDelta(await wholeMirror(), read.delta);
      return whole;
    };
    const fingerprint = await this.#directory.fingerprint();
    const basis = previous ? this.#stillValid(previous.basis, policy, fingerprint) : null;
    // A basis with unsteady objects (unticked changes, conflicts an apply may have resolved) no
    // longer stands for the plan: those are judged, focused.
    const unsteady = basis?.focus ? unsteadyKeys(basis.focus) : null;
    const settled = basis && (!unsteady || unsteady.users.size + unsteady.groups.size === 0);
    let result: Plan | null = null;
    let directory: Planned['directory'] = null;
    let shares: JudgedShares | undefined;
    if (basis && sourceUnchanged && settled) {
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
    } else if (basis?.focus && read.snapshot === null && FOCUSED_PLANNING && !options.fullPlan) {
      // After an apply, with the same policy, domains and directory: only what the delta changed
      // and what that affects is judged, against the rows it needs (src/sync/focus.ts). An
      // expired delta link (a full read), a first sync or any other change plans in full.
      const focused = await this.#planFocused(read.delta, policy, { ...basis, focus: basis.focus });
      if (focused) ({ result, directory, shares } = focused);
    }
    if (!result) {
      directory = await this.#directory.loadAll();
      result = makePlan(
        {
          orgId: this.org.id,
          domains: this.org.domains,
          pendingDomains: this.org.pendingDomains,
          ...directory,
        },
        await nextSource(),
        policy,
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
        objects: read.snapshot
          ? { users: read.snapshot.users.length, groups: read.snapshot.groups.length }
          : countsAfter(await this.#mirror.counts(), read.delta),
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
      fingerprint,
      ...(directory === null && basis?.focus ? { focus: basis.focus } : {}),
      ...(shares ? { shares } : {}),
      source: sourceUnchanged
        ? { kind: 'unchanged' }
        : read.snapshot === null
          ? { kind: 'delta', delta: read.delta }
          : { kind: 'read', snapshot: read.snapshot, mirror: previous ? await wholeMirror() : null },
      cursor: read.cursor,
      stored: false,
      directory,
    };
  }

  /** The basis of the last apply, when this plan would be made against the same policy, domains and directory. */
  #stillValid(basis: SyncBasis | null, policy: SyncPolicy, fingerprint: string): SyncBasis | null {
    // A basis stored before seats were counted cannot answer for them: plan in full once.
    if (!basis || basis.seats === undefined || basis.policy !== JSON.stringify(policy)) return null;
    if (basis.expectedLeftOut === undefined) return null;
    if (basis.domains.join() !== this.org.domains.join()) return null;
    if (basis.pendingDomains?.join() !== this.org.pendingDomains.join()) return null;
    return basis.fingerprint === fingerprint ? basis : null;
  }

  /**
   * The focused plan of the mirror with `delta` applied (src/sync/focus.ts): the objects the
   * delta changed, the basis's unsteady ones, and what they affect, closed over the mirror's
   * tables by key and judged against only the directory rows they need; counts and skipped
   * entries of every other object come from the basis.
   */
  async #planFocused(
    delta: SourceDelta,
    policy: SyncPolicy,
    basis: SyncBasis & { focus: FocusBasis },
  ): Promise<{ result: Plan; directory: NonNullable<Planned['directory']>; shares: JudgedShares } | null> {
    const changed = deltaIds(delta);
    const unsteady = unsteadyKeys(basis.focus);
    const focus = await closeFocus(
      {
        users: new Set([...changed.users, ...unsteady.users]),
        groups: new Set([...changed.groups, ...unsteady.groups]),
      },
      deltaRelations(this.#mirror, delta),
      // Steady groups are read in part, unless a switched-off update of groups may have left
      // them out of step.
      policy.how.updateGroups ? { readInPart: { whole: unsteady.groups, changed: changed.groups } } : {},
    );
    const rows = await this.#directory.loadFocused(directoryKeys(focus, focus.records));
    const current = {
      orgId: this.org.id,
      domains: this.org.domains,
      pendingDomains: this.org.pendingDomains,
      ...rows,
    };
    const { previous, next } = focusSources(focus, delta);
    let result: Plan;
    const judged = judge(current, next, policy, focus);
    try {
      result = focusedPlan({
        focus,
        next: judged,
        previousFocus: judge(current, previous, policy, focus),
        previousUnsteady: judge(current, previous, policy, unsteady),
        steady: basis.focus.steady,
        skipped: basis.skipped,
        seats: basis.seats,
        loadedUsers: rows.users,
      });
    } catch (error) {
      // A group read in part would be added: it was not in step after all. Plan in full.
      if (error instanceof WholeGroupNeeded) return null;
      throw error;
    }
    return { result, directory: { ...rows, partial: true }, shares: judged.shares };
  }

  /**
   * The focus basis an apply leaves (src/sync/focus.ts), computed in its transaction before the
   * writes: null when the directory is not the one the plan was made against (edited since the
   * preview), or the plan's source is not at hand.
   */
  async #focusBasisOf(
    trx: StoreTransaction,
    planned: Planned,
    unapplied: ReadonlySet<string>,
  ): Promise<FocusBasis | null> {
    const { preview } = planned;
    const directory = this.#directory.with(trx);
    if (planned.fingerprint === undefined || (await directory.fingerprint()) !== planned.fingerprint)
      return null;
    if (planned.source.kind === 'unchanged') {
      // A plan made from a settled basis: nothing planned, so the apply changes nothing the basis says.
      return allChanges(preview).length === 0 && planned.focus ? planned.focus : null;
    }
    const removed: MemberRef[] = [
      ...preview.usersToRemove
        .filter((c) => !unapplied.has(c.id))
        .map((c) => ({ type: 'user' as const, id: c.userId })),
      ...preview.groupsToRemove
        .filter((c) => !unapplied.has(c.id))
        .map((c) => ({ type: 'group' as const, id: c.groupId })),
    ];
    const listing = removed.length > 0 ? await directory.groupsListing(removed) : [];
    const seeds = unsteadySeeds(preview, unapplied, listing);
    // Nothing left unsteady (a first sync applied whole): no source to index, no rows to judge.
    if (seeds.users.size + seeds.groups.size === 0)
      return focusBasis(preview, seeds, emptyTally(), unapplied);
    // Closed over the plan's source: the mirror (not written yet) with the delta on top, or the
    // whole source in memory.
    const planSource = planned.source;
    let relations: SourceRelations;
    // The records of a focus, as judging it reads the source.
    let sourceOf: (focus: ClosedFocus) => SourceSnapshot;
    if (planSource.kind === 'delta') {
      const { delta } = planSource;
      relations = deltaRelations(this.#mirror.with(trx), delta);
      sourceOf = (focus) => focusSources(focus, delta).next;
    } else {
      const source =
        planSource.kind === 'read'
          ? planSource.snapshot
          : await unpackJsonAsync<SourceSnapshot>(planSource.blob);
      relations = indexRelations(indexSources([source]));
      sourceOf = () => source;
    }
    const unsteady = await closeFocus(seeds, relations);
    // A focused plan judged most of them already (its own changes and what they touch): their
    // counts are the shares it recorded. The others are judged here, as plan() judged them,
    // with what their verdicts read.
    const planShares = planned.shares ?? { users: [], groups: [] };
    const unjudged = unshared(unsteady, planShares);
    if (unjudged.users.size + unjudged.groups.size === 0)
      return focusBasis(preview, unsteady, sharedTally(unsteady, planShares), unapplied);
    const judged = await closeFocus(unjudged, relations, { spread: false });
    const rows = await directory.loadFocused(directoryKeys(judged, judged.records));
    const current = {
      orgId: this.org.id,
      domains: this.org.domains,
      pendingDomains: this.org.pendingDomains,
      ...rows,
    };
    const { shares } = judge(current, sourceOf(judged), preview.policy, judged, { plan: preview });
    return focusBasis(preview, unsteady, sharedTally(unsteady, shares, planShares), unapplied);
  }

  /** Brings the source mirror to the plan's source: the rows its read changed, in the apply's transaction. */
  async #writeMirror(trx: StoreTransaction, source: PlannedSource): Promise<void> {
    if (source.kind === 'unchanged') return;
    const mirror = this.#mirror.with(trx);
    if (source.kind === 'delta') {
      await mirror.write(sourceChanges(source.delta.before, source.delta.after));
      return;
    }
    // A stored preview's source is compared with the mirror as it is: unchanged since the
    // preview, or the preview could not be executed (#storedPlan).
    const [next, previous] =
      source.kind === 'read'
        ? [source.snapshot, source.mirror]
        : await Promise.all([unpackJsonAsync<SourceSnapshot>(source.blob), mirror.load()]);
    await mirror.write(sourceChanges(previous, next));
  }

  async #store(planned: Planned, actor: string, expiresAt: string): Promise<void> {
    const { preview } = planned;
    await this.#repo.deleteExpiredPlans(this.runtime.now().toISOString());
    await this.#repo.savePlan(
      preview.planId,
      {
        body: {
          preview,
          versions: planned.versions,
          ...(planned.fingerprint !== undefined ? { fingerprint: planned.fingerprint } : {}),
          ...(planned.focus ? { focus: planned.focus } : {}),
          ...(planned.shares ? { shares: planned.shares } : {}),
        } satisfies PlanBody,
        snapshot: await packSource(planned.source, () => this.#mirror.load()),
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
    /** Set when an admin's approval applies a held run. */
    decision?: RunDecision,
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
    // Removals are recorded with the object as it was, so History can say what went.
    const outcomes = outcomesOf(preview, excluded, conflicts, users, groups);
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
        // What was applied, unticked changes and conflicts left out. A focused plan's directory
        // holds every user a change targets, not every user: the others' seats stay as counted.
        after: writes
          ? billableAfter(
              current.users,
              steps.flatMap((s) => s.changes as Change[]),
            ) + (planned.directory?.partial ? preview.seats.before - billableAfter(current.users, []) : 0)
          : preview.seats.before,
      },
      ...(decision ? { decision } : {}),
    };
    // The outcomes are compressed on the thread pool while the changes are written.
    const packing = packJsonAsync(outcomes);
    // Settled by the await below; this only keeps a rejection while the writes run from being unhandled.
    packing.catch(() => undefined);
    await this.#fenced(runId, heartbeat, async (trx) => {
      const now = this.runtime.now().toISOString();
      // What the next plan may leave unjudged (src/sync/focus.ts), judged on the directory the
      // plan saw: before the writes. Unticked and conflicting changes stay to be judged.
      const focus = await this.#focusBasisOf(trx, planned, new Set([...excluded, ...conflicts.keys()]));
      if (writes) {
        await applySteps(trx, steps, {
          dialect: this.store.dialect,
          orgId: this.org.id,
          newId: this.runtime.newId,
          now,
          users,
          groups,
        });
      }
      const complete = excluded.size === 0 && conflicts.size === 0;
      const basis: SyncBasis | null =
        complete || focus
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
              // Billable users now: what was applied (all of the plan when complete).
              seats: result.seats?.after ?? preview.seats.after,
              ...(focus ? { focus } : {}),
            }
          : null;
      await this.#writeMirror(trx, planned.source);
      const repo = this.#repo.with(trx);
      const detail = await packing;
      await repo.saveState({ cursor: planned.cursor, basis }, now);
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

/**
 * The packed snapshot to store, or null when the source is the mirror unchanged. A delta is
 * packed as the whole source it makes of the mirror (`mirror`), as a stored preview keeps it.
 */
async function packSource(
  source: PlannedSource,
  mirror: () => Promise<SourceSnapshot>,
): Promise<Buffer | null> {
  switch (source.kind) {
    case 'read':
      return packJsonAsync(source.snapshot);
    case 'delta':
      return packJsonAsync(applyDelta(await mirror(), source.delta));
    case 'packed':
      return source.blob;
    case 'unchanged':
      return null;
  }
}

/** How many users and groups the mirror holds once `delta` is applied to it. */
function countsAfter(
  counts: { users: number; groups: number },
  delta: SourceDelta,
): { users: number; groups: number } {
  const moved = <T extends { externalId: string }>(before: readonly T[], after: readonly T[]) => {
    const was = new Set(before.map((o) => o.externalId));
    const is = new Set(after.map((o) => o.externalId));
    return [...is].filter((id) => !was.has(id)).length - [...was].filter((id) => !is.has(id)).length;
  };
  return {
    users: counts.users + moved(delta.before.users, delta.after.users),
    groups: counts.groups + moved(delta.before.groups, delta.after.groups),
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

/**
 * Every change of a plan with its outcome and what it did: the record an add created, the
 * record a removal took away (from `users`/`groups`, the directory before the apply), an
 * update's before → after.
 */
function outcomesOf(
  plan: Plan,
  excluded: Set<string>,
  conflicts: Map<string, string>,
  users: Map<string, User>,
  groups: Map<string, Group>,
): ChangeOutcome[] {
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
    switch (c.kind) {
      case 'add_user':
        outcome.user = outcomeUser(c.user);
        break;
      case 'add_group':
        outcome.group = outcomeGroup(c.group);
        break;
      case 'update_user':
        outcome.reason = c.reason;
        outcome.before = c.before;
        outcome.after = c.after;
        break;
      case 'update_group':
        outcome.before = c.before;
        outcome.after = c.after;
        if (c.membersAdded.length) outcome.membersAdded = c.membersAdded;
        if (c.membersRemoved.length) outcome.membersRemoved = c.membersRemoved;
        break;
      case 'remove_user': {
        outcome.reason = c.reason;
        outcome.why = c.message;
        const was = users.get(c.userId);
        if (was) outcome.user = outcomeUser(was);
        break;
      }
      case 'remove_group': {
        outcome.reason = c.reason;
        outcome.why = c.message;
        const was = groups.get(c.groupId);
        if (was) outcome.group = outcomeGroup(was);
        break;
      }
    }
    return outcome;
  });
}

function outcomeUser(u: Pick<User, 'email' | 'aliases' | 'role' | 'status' | 'mailbox'>): OutcomeUser {
  return {
    email: u.email,
    aliases: u.aliases,
    role: u.role,
    status: u.status,
    mailbox: u.mailbox,
    functional: isFunctional(u.mailbox),
  };
}

function outcomeGroup(g: {
  name: string;
  kind: GroupKind;
  email: string | null;
  aliases: string[];
  members: readonly unknown[];
}): OutcomeGroup {
  return { name: g.name, kind: g.kind, email: g.email, aliases: g.aliases, memberCount: g.members.length };
}

/** A run named for people: its trigger and when it started (the audit log's label for it). */
function runLabel(run: { trigger: string; startedAt: string }): string {
  return `${run.trigger} sync of ${run.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
}

/** How runs are asked for: words and dates as they came (the HTTP query, the CLI). */
export interface RunFilterQuery {
  trigger?: string;
  status?: string;
  from?: string;
  to?: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A run filter checked: a known trigger and status, and `from`/`to` each a date (YYYY-MM-DD,
 * a whole day in UTC: `to` includes that day) or an ISO instant with its offset (`to` exclusive).
 */
export function runFilter(query: RunFilterQuery): RunFilter {
  const filter: RunFilter = {};
  if (query.trigger !== undefined) {
    if (!(TRIGGERS as readonly string[]).includes(query.trigger)) {
      throw invalid('trigger', `Unknown trigger "${query.trigger}": use one of ${TRIGGERS.join(', ')}.`);
    }
    filter.trigger = query.trigger as Trigger;
  }
  if (query.status !== undefined) {
    if (!(RUN_STATUSES as readonly string[]).includes(query.status)) {
      throw invalid('status', `Unknown status "${query.status}": use one of ${RUN_STATUSES.join(', ')}.`);
    }
    filter.status = query.status as RunStatus;
  }
  if (query.from !== undefined) filter.from = instantOf('from', query.from, 0);
  if (query.to !== undefined) filter.to = instantOf('to', query.to, 1);
  if (filter.from && filter.to && filter.from >= filter.to) {
    throw invalid('to', `to (${query.to}) must be after from (${query.from}).`);
  }
  return filter;
}

/** A date or instant as an ISO instant; a date is its day's start, plus `days` (1: the day after). */
function instantOf(field: 'from' | 'to', value: string, days: number): string {
  const date = DATE.test(value)
    ? new Date(`${value}T00:00:00.000Z`)
    : INSTANT.test(value)
      ? new Date(value)
      : null;
  if (
    !date ||
    Number.isNaN(date.getTime()) ||
    (DATE.test(value) && date.toISOString().slice(0, 10) !== value)
  ) {
    throw invalid(
      field,
      `${field} must be a date (YYYY-MM-DD) or an ISO date and time with its offset (2025-06-01T08:00:00Z), not "${value}".`,
    );
  }
  if (DATE.test(value)) date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString();
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

/**
 * Of a plan's user updates, those that turn an active user inactive — with the removals, what
 * the deletion safeguard counts (src/jobs/safeguard.ts) and the plan reader reports. Counted here only.
 */
export function deactivationsOf(usersToUpdate: readonly UpdateUserChange[]): number {
  return usersToUpdate.filter(isDeactivation).length;
}

/** Parsed plan bodies shared by every SyncService of this process (see PlanBodyCache). */
const planBodies = new PlanBodyCache<PlanBody>(PLAN_CACHE_PACKED_BYTES);

/** What a planned change does, in one line of words (the CSV's detail column). */
function changeText(c: Change): string {
  switch (c.kind) {
    case 'add_user':
      return userText(c.user);
    case 'add_group':
      return groupText(outcomeGroup(c.group));
    case 'update_user':
    case 'update_group':
      return updateText(c);
    case 'remove_user':
    case 'remove_group':
      return c.message;
  }
}

/** What a run's change did, in one line of words: as planned, and what a removal took away. */
function outcomeText(o: ChangeOutcome): string {
  const removal = o.kind === 'remove_user' || o.kind === 'remove_group';
  const record = o.user ? userText(o.user) : o.group ? groupText(o.group) : '';
  if (removal) return [o.why, record && `was: ${record}`].filter(Boolean).join('; ');
  if (o.kind === 'update_user' || o.kind === 'update_group') return updateText(o);
  return record;
}

function userText(u: Pick<OutcomeUser, 'email' | 'aliases' | 'role' | 'status' | 'mailbox'>): string {
  return [
    u.email,
    u.role,
    u.status,
    isFunctional(u.mailbox) ? `functional (${u.mailbox} mailbox)` : u.mailbox ? `${u.mailbox} mailbox` : null,
    u.aliases.length ? `aliases: ${u.aliases.join(' ')}` : null,
  ]
    .filter(Boolean)
    .join('; ');
}

function groupText(g: OutcomeGroup): string {
  return [
    `${g.kind} group ${g.name}`,
    g.email,
    g.aliases.length ? `aliases: ${g.aliases.join(' ')}` : null,
    `${g.memberCount} members`,
  ]
    .filter(Boolean)
    .join('; ');
}

/** An update as "field: before → after; …", members added and removed counted. */
function updateText(c: {
  reason?: string;
  before?: unknown;
  after?: unknown;
  membersAdded?: PlannedMember[];
  membersRemoved?: PlannedMember[];
}): string {
  const before = (c.before ?? {}) as Record<string, unknown>;
  const after = (c.after ?? {}) as Record<string, unknown>;
  const parts = Object.keys(after)
    .filter((f) => f !== 'members')
    .map((f) => `${f}: ${valueText(before[f])} → ${valueText(after[f])}`);
  if (c.reason === 'linked') parts.unshift('links the hand-made user to Entra');
  if (c.membersAdded?.length) parts.push(`members added: ${c.membersAdded.map((m) => m.label).join(' ')}`);
  if (c.membersRemoved?.length)
    parts.push(`members removed: ${c.membersRemoved.map((m) => m.label).join(' ')}`);
  return parts.join('; ');
}

function valueText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) return value.length ? value.map(String).join(' ') : '(none)';
  return String(value);
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
