import {
  ATTENTION,
  type Attention,
  type AttentionItem,
  type Need,
  type OverviewSort,
} from '../contract/overview.js';
import type { OrgFacts } from '../store/jobs-repository.js';
import { daysUntil, SECRET_REMINDER_DAYS } from './schedule.js';

/**
 * The operator's overview across organizations: what each one needs, ranked. Pure — the facts
 * are gathered by JobsRepository.overviewFacts in a fixed number of queries, whatever the number
 * of organizations; this module only judges and orders them.
 */

// The words and the served item are the contract's (src/contract/overview.ts).
export {
  ATTENTION,
  type Attention,
  type AttentionItem,
  NEEDS,
  type Need,
  OVERVIEW_SORTS,
  type OverviewSort,
} from '../contract/overview.js';
export type { OrgFacts };

/** Days before its expiry date a key counts as expiring: the first reminder's. */
export const KEY_EXPIRING_DAYS = SECRET_REMINDER_DAYS[0];

export interface OverviewQuery {
  sort: OverviewSort;
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
  needs?: Need;
}

function parseError(json: string | null): { code: string; message: string } | null {
  if (!json) return null;
  try {
    const value = JSON.parse(json) as { code?: unknown; message?: unknown } | null;
    if (!value || typeof value !== 'object') return { code: 'unknown', message: String(value) };
    return { code: String(value.code ?? 'unknown'), message: String(value.message ?? '') };
  } catch {
    return { code: 'unknown', message: json };
  }
}

/** Judges one organization. */
export function attentionOf(facts: OrgFacts, now: Date): AttentionItem {
  const reasons: Exclude<Attention, 'ok'>[] = [];
  // As the organization's own overview: a failure (automatic or manual) until a sync succeeds; and
  // a latest run that failed without recording it (a worker lost mid-run).
  const unhealthy =
    facts.consecutiveFailures > 0 || facts.lastError !== null || facts.lastRun?.status === 'failed';
  if (unhealthy) reasons.push('failing');
  if (facts.heldRunId) reasons.push('held');
  const daysLeft = facts.secretExpiresAt ? daysUntil(facts.secretExpiresAt, now) : null;
  if (facts.connected && daysLeft !== null && !Number.isNaN(daysLeft)) {
    if (daysLeft <= 0) reasons.push('key_expired');
    else if (daysLeft <= KEY_EXPIRING_DAYS) reasons.push('key_expiring');
  }
  if (!facts.lastSuccessAt) reasons.push('never_synced');
  return {
    id: facts.orgId,
    name: facts.name,
    domains: facts.domainCount,
    connected: facts.connected,
    attention: reasons[0] ?? 'ok',
    reasons,
    health: {
      healthy: facts.connected && !unhealthy,
      consecutiveFailures: facts.consecutiveFailures,
      lastError: unhealthy ? parseError(facts.lastError) : null,
      lastFailureAt: facts.lastFailureAt,
    },
    lastRun: facts.lastRun,
    lastSuccessAt: facts.lastSuccessAt,
    heldRunId: facts.heldRunId,
    key:
      facts.secretExpiresAt && daysLeft !== null && !Number.isNaN(daysLeft)
        ? { expiresAt: facts.secretExpiresAt, daysLeft }
        : null,
    frequencyHours: facts.frequencyHours,
  };
}

function needs(item: AttentionItem, need: Need): boolean {
  switch (need) {
    case 'failing':
      return item.reasons.includes('failing');
    case 'held':
      return item.reasons.includes('held');
    case 'key':
      return item.reasons.includes('key_expired') || item.reasons.includes('key_expiring');
    case 'never':
      return item.reasons.includes('never_synced');
    case 'any':
      return item.reasons.length > 0;
  }
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
const byName = (a: AttentionItem, b: AttentionItem) =>
  collator.compare(a.name, b.name) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The organizations ranked, filtered and paged. `attention`: most urgent first (asc); `name`;
 * `lastSuccess`: oldest first (asc), never synced before any. Ties always by name, ascending.
 */
export function rankAttention(
  facts: OrgFacts[],
  now: Date,
  query: OverviewQuery,
): { total: number; items: AttentionItem[] } {
  let items = facts.map((f) => attentionOf(f, now));
  if (query.needs) {
    const need = query.needs;
    items = items.filter((i) => needs(i, need));
  }
  const sign = query.order === 'desc' ? -1 : 1;
  const primary = (a: AttentionItem, b: AttentionItem): number => {
    switch (query.sort) {
      case 'attention':
        return ATTENTION.indexOf(a.attention) - ATTENTION.indexOf(b.attention);
      case 'name':
        return 0;
      case 'lastSuccess': {
        const x = a.lastSuccessAt ? Date.parse(a.lastSuccessAt) : Number.NEGATIVE_INFINITY;
        const y = b.lastSuccessAt ? Date.parse(b.lastSuccessAt) : Number.NEGATIVE_INFINITY;
        return x === y ? 0 : x < y ? -1 : 1;
      }
    }
  };
  items.sort((a, b) => {
    const first = primary(a, b) * sign;
    if (first !== 0) return first;
    return query.sort === 'name' ? byName(a, b) * sign : byName(a, b);
  });
  return { total: items.length, items: items.slice(query.offset, query.offset + query.limit) };
}
