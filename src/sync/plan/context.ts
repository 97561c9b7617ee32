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

/** The parts of a plan that are not changes: what was skipped, and the counts. */
export interface PlanReport {
  skipped: SkippedEntry[];
  /** Aliases in Microsoft's initial/routing domains (every Entra object has one): counted, not listed. */
  initialDomainAliases: number;
  unchanged: number;
  switchedOff: Record<Category, number>;
  blockedSignIn: Plan['blockedSignIn'];
}

export function newReport(): PlanReport {
  return {
    skipped: [],
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
