import { PLAN_PAGE_MAX } from '../../../src/contract/limits.js';
import type { PlanPageQuery } from '../../../src/contract/sync.js';
import { api, query } from './client';
import type { Category, PlanState, PlanView, Preview, SkippedEntry } from './types';
import { CATEGORIES } from './types';

/** The most a plan page holds: the server's own limit. */
const PAGE = PLAN_PAGE_MAX;
/** Pages asked for at once. */
const PARALLEL = 4;

/** A stored plan read back whole: the preview as Search returned it, and what may be done with it. */
export interface LoadedPlan {
  plan: Preview;
  state: PlanState;
  run: PlanView['run'];
  /** null for a held run's plan: kept until the run is decided. */
  expiresAt: string | null;
}

/**
 * Reads a stored plan (a preview or a held run's plan) by id through
 * `GET …/sync/plans/{planId}`, page by page and category by category, into the same shape a
 * fresh Search returns, so one table serves both.
 */
export async function loadPlan(orgPath: string, planId: string): Promise<LoadedPlan> {
  const url = (params: Partial<PlanPageQuery>) =>
    `${orgPath}/sync/plans/${encodeURIComponent(planId)}${query(params)}`;
  const first = await api<PlanView>('GET', url({ category: 'usersToAdd', limit: PAGE }));
  const pages: { category: Category | 'skipped'; offset: number }[] = [];
  for (const category of [...CATEGORIES, 'skipped'] as const) {
    const start = category === 'usersToAdd' ? PAGE : 0;
    for (let offset = start; offset < first.counts[category]; offset += PAGE)
      pages.push({ category, offset });
  }
  const lists: Record<Category | 'skipped', unknown[][]> = Object.fromEntries(
    [...CATEGORIES, 'skipped'].map((c) => [c, []]),
  ) as never;
  lists.usersToAdd[0] = first.page.items;
  let next = 0;
  const worker = async () => {
    while (next < pages.length) {
      const { category, offset } = pages[next++]!;
      const view = await api<PlanView>('GET', url({ category, offset, limit: PAGE }));
      lists[category][offset / PAGE] = view.page.items;
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const { counts: _c, deactivations: _d, page: _p, state, run, expiresAt, ...summary } = first;
  const plan = {
    ...summary,
    expiresAt: expiresAt ?? '',
    skipped: lists.skipped.flat() as SkippedEntry[],
    ...Object.fromEntries(CATEGORIES.map((c) => [c, lists[c].flat()])),
  } as Preview;
  return { plan, state, run, expiresAt };
}
