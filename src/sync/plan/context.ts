import type { Category, Plan, RemovalReason, SkippedEntry, SkipReason } from '../changes.js';
import type { SyncPolicy } from '../policy.js';
import type { AddressHolders, OrgDomains } from './addresses.js';
import type { DirectoryView } from './view.js';

/** What every comparer reads (the policy, the keyed directory, the address rules) and writes (the report). */

export type ObjectType = 'user' | 'group';

export interface PlanContext {
  policy: SyncPolicy;
  domains: OrgDomains;
  directory: DirectoryView;
  /** Who holds each address in the directory now. */
  holders: AddressHolders;
  report: PlanReport;
}

/** The parts of a plan that are sums over objects. */
export interface Tally {
  /** Aliases in Microsoft's initial/routing domains (every Entra object has one): counted, not listed. */
  initialDomainAliases: number;
  unchanged: number;
  switchedOff: Record<Category, number>;
  blockedSignIn: Plan['blockedSignIn'];
}

/** One of a Tally's sums. */
export type Counter =
  | 'initialDomainAliases'
  | 'unchanged'
  | `switchedOff.${Category}`
  | `blockedSignIn.${keyof Plan['blockedSignIn']}`;

/** Each judged object's share of the sums: the counters it added to, once per count (none: []). */
export interface Shares {
  users: Map<string, Counter[]>;
  groups: Map<string, Counter[]>;
}

/** The parts of a plan that are not changes: what was skipped, and the counts. */
export interface PlanReport extends Tally {
  skipped: SkippedEntry[];
  /**
   * Kept when asked (focused judging): an apply's focus basis sums the shares of the objects it
   * leaves unsteady instead of judging them again.
   */
  shares: Shares | null;
}

export function emptyTally(): Tally {
  return {
    initialDomainAliases: 0,
    unchanged: 0,
    switchedOff: {
      usersToAdd: 0,
      usersToUpdate: 0,
      usersToRemove: 0,
      groupsToAdd: 0,
      groupsToUpdate: 0,
      groupsToRemove: 0,
    },
    blockedSignIn: { functional: 0, person: 0, rule: 0 },
  };
}

export function newReport(): PlanReport {
  return { skipped: [], ...emptyTally(), shares: null };
}

/** Adds `n` to one of a tally's sums. */
export function addTo(tally: Tally, counter: Counter, n = 1): void {
  const dot = counter.indexOf('.');
  if (dot < 0) tally[counter as 'initialDomainAliases' | 'unchanged'] += n;
  else if (counter.startsWith('switchedOff.')) tally.switchedOff[counter.slice(dot + 1) as Category] += n;
  else tally.blockedSignIn[counter.slice(dot + 1) as keyof Plan['blockedSignIn']] += n;
}

/** Counts an object's verdict in the report's sums, and in the object's share when shares are kept. */
export function count(
  report: PlanReport,
  type: ObjectType,
  externalId: string,
  counter: Counter,
  n = 1,
): void {
  addTo(report, counter, n);
  if (!report.shares || n === 0) return;
  const shares = type === 'user' ? report.shares.users : report.shares.groups;
  const own = shares.get(externalId);
  const added: Counter[] = Array.from({ length: n }, () => counter);
  if (own) own.push(...added);
  else shares.set(externalId, added);
}

/** A skipped entry; optional fields are left out rather than set to nothing. */
export function skippedEntry(
  reason: SkipReason,
  message: string,
  objectType: ObjectType,
  externalId?: string,
  address?: string | null,
  name?: string | null,
): SkippedEntry {
  const entry: SkippedEntry = { reason, message, objectType };
  if (externalId !== undefined) entry.externalId = externalId;
  if (address) entry.address = address;
  if (name) entry.name = name;
  return entry;
}

/** A source object the scope rules leave out: removed if synced before, else perhaps reported. */
export interface OutOfScope {
  reason: RemovalReason;
  message: string;
  /** A skipped entry explaining it, reported unless a removal says the same. */
  skipped: SkippedEntry | null;
}
