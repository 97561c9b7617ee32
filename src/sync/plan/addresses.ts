import {
  domainOf,
  isMicrosoftInitialDomain,
  normalizeAddress,
  normalizeDomain,
  PENDING_ACCEPTS_NO_ADDRESS,
} from '../../directory/addresses.js';
import type { Group, User } from '../../directory/model.js';
import type { RawAddresses } from '../classify.js';
import { count, type ObjectType, type PlanContext, type PlanReport, skippedEntry } from './context.js';
import { type CurrentDirectory, describe, isDirectoryUser } from './view.js';

/**
 * Addresses, for users and groups alike: which domains accept them, who holds each address in the
 * directory now, and who may have it after this plan. Each rule is decided here once.
 *
 * Addresses are judged against the directory as it is now: an address still held by another
 * object (even one this plan updates or removes) is a conflict, so every planned change is valid
 * on its own, whichever subset the admin ticks and in whatever order apply runs them. An address
 * that moves between objects therefore arrives one run after it was released.
 */

/** The organization's domains as the address rules use them. */
export interface OrgDomains {
  /** Proven domains: addresses in them are synced. */
  proven: ReadonlySet<string>;
  /** The proven domains as a message lists them. */
  provenList: string;
  pending: ReadonlySet<string>;
}

export function orgDomains(current: CurrentDirectory): OrgDomains {
  const proven = new Set(current.domains.map((d) => normalizeDomain(d) ?? d.toLowerCase()));
  return {
    proven,
    provenList: [...proven].sort().join(', '),
    pending: new Set(current.pendingDomains),
  };
}

/** Who holds each address in the directory now. */
export type AddressHolders = ReadonlyMap<string, User | Group>;

/** Indexes the directory's addresses; should it hold a duplicate, the smallest id wins (row order never matters). */
export function addressHolders(current: CurrentDirectory): AddressHolders {
  const holders = new Map<string, User | Group>();
  const hold = (a: string | null, o: User | Group) => {
    if (a === null) return;
    const seen = holders.get(a);
    if (!seen || o.id < seen.id) holders.set(a, o);
  };
  for (const o of [...current.users, ...current.groups]) {
    hold(o.email, o);
    for (const a of o.aliases) hold(a, o);
  }
  return holders;
}

/** A source object that passed the scope rules, with its validated addresses. */
export interface Candidate<S> {
  type: ObjectType;
  src: S;
  externalId: string;
  label: string;
  email: string | null;
  aliases: string[];
  /** Set when the object cannot be synced this run (reported in skipped); it is left as it is. */
  blocked: boolean;
  /** The directory object it is linked to by external id, or will be linked to (hand-made user). */
  target: User | Group | undefined;
  /** Set when `target` is a hand-made user taken over by sync through its address. */
  linking: boolean;
}

/**
 * Validates the addresses of an in-scope object against the organization's domains. `blocked`
 * when the primary makes it unsyncable; its aliases are then not judged (nothing is synced).
 */
export function validAddresses(
  domains: OrgDomains,
  report: PlanReport,
  type: ObjectType,
  externalId: string,
  label: string,
  raw: RawAddresses,
): { email: string | null; aliases: string[]; blocked: boolean } {
  const noun = type;
  const { proven, pending } = domains;
  const provenList = domains.provenList || 'none';
  const skip = (reason: Parameters<typeof skippedEntry>[0], message: string, address: string) =>
    report.skipped.push(skippedEntry(reason, message, type, externalId, address, label));

  let email: string | null = null;
  if (raw.primary !== null) {
    email = normalizeAddress(raw.primary);
    if (email === null) {
      skip(
        'primary_invalid',
        `The primary address "${raw.primary}" of ${label} is not a valid email address: the ${noun} is not synced until it is corrected in Entra.`,
        raw.primary,
      );
      return { email, aliases: [], blocked: true };
    }
    const domain = domainOf(email);
    if (pending.has(domain)) {
      skip(
        'primary_pending_domain',
        `The primary address ${email} of ${label} is in ${domain}, which is pending: the ${noun} is not synced until it is proven — ${PENDING_ACCEPTS_NO_ADDRESS}`,
        email,
      );
      return { email, aliases: [], blocked: true };
    }
    if (!proven.has(domain)) {
      skip(
        'primary_foreign_domain',
        `The primary address ${email} of ${label} is not in one of the organization's domains (${provenList}): the ${noun} is not synced. Add the domain to the organization or change the address in Entra.`,
        email,
      );
      return { email, aliases: [], blocked: true };
    }
  }
  const aliases = new Set<string>();
  const expected = new Set<string>();
  for (const rawAlias of raw.aliases) {
    const alias = normalizeAddress(rawAlias);
    if (alias === null) {
      skip(
        'alias_invalid',
        `The alias "${rawAlias}" of ${label} is not a valid email address: it is left out (the ${noun} is synced without it).`,
        rawAlias,
      );
      continue;
    }
    const domain = domainOf(alias);
    if (pending.has(domain)) {
      skip(
        'alias_pending_domain',
        `The alias ${alias} of ${label} is in ${domain}, which is pending: it is left out (the ${noun} is synced without it) — ${PENDING_ACCEPTS_NO_ADDRESS}`,
        alias,
      );
    } else if (!proven.has(domain) && isMicrosoftInitialDomain(domain)) {
      // Every Entra object has one: counted, not listed.
      expected.add(alias);
    } else if (!proven.has(domain)) {
      skip(
        'alias_foreign_domain',
        `The alias ${alias} of ${label} is not in one of the organization's domains (${provenList}): it is left out (the ${noun} is synced without it).`,
        alias,
      );
    } else if (alias !== email) {
      aliases.add(alias);
    }
  }
  count(report, type, externalId, 'initialDomainAliases', expected.size);
  return { email, aliases: [...aliases].sort(), blocked: false };
}

/**
 * Settles who gets which address among the candidates (users and groups together, as they share
 * one address space): an address claimed twice in the source goes to nobody; one held in the
 * directory by another object is a conflict — except that a user
 * whose primary address is a hand-made user's is linked to that user instead. A candidate that
 * loses its primary address is blocked; one that loses an alias is synced without it.
 * Updates the candidates in place (blocked, target, linking, aliases).
 */
export function settleAddresses(ctx: PlanContext, candidates: readonly Candidate<unknown>[]): void {
  const { report, holders, directory } = ctx;
  const cands = candidates.filter((c) => !c.blocked);

  const lostAliases = new Map<Candidate<unknown>, Set<string>>();
  const loseAlias = (c: Candidate<unknown>, alias: string, reason: string) => {
    const set = lostAliases.get(c) ?? new Set<string>();
    lostAliases.set(c, set);
    set.add(alias);
    report.skipped.push(
      skippedEntry(
        'alias_conflict',
        `The alias ${alias} of ${c.label} ${reason}: it is left out (the ${c.type} is synced without it).`,
        c.type,
        c.externalId,
        alias,
        c.label,
      ),
    );
  };
  const block = (c: Candidate<unknown>, reason: string) => {
    c.blocked = true;
    report.skipped.push(
      skippedEntry(
        'address_conflict',
        `The address ${c.email} of ${c.label} ${reason}: the ${c.type} is not synced until that is resolved.`,
        c.type,
        c.externalId,
        c.email,
        c.label,
      ),
    );
  };

  // Addresses claimed twice in the source: nobody gets them.
  for (const [address, list] of contestedAddresses(cands)) {
    for (const c of list) {
      const others = list
        .filter((o) => o !== c)
        .map((o) => `${o.label} (${o.externalId})`)
        .sort()
        .join(', ');
      const reason = `is also claimed in Entra by ${others}`;
      if (c.email === address) block(c, reason);
      else loseAlias(c, address, reason);
    }
  }

  // Addresses held by another object in the directory. Another organization cannot hold one: an
  // address lies in its holder's proven domain, and a domain is proven for one organization only.
  for (const c of cands) {
    if (c.blocked) continue;
    if (c.email !== null) {
      const holder = holders.get(c.email);
      if (holder && holder !== c.target) {
        if (linkable(c, holder, directory)) {
          c.target = holder;
          c.linking = true;
        } else {
          block(c, `already belongs to ${describe(directory, holder)}`);
          continue;
        }
      }
    }
    for (const alias of c.aliases) {
      if (lostAliases.get(c)?.has(alias)) continue;
      const holder = holders.get(alias);
      if (holder && holder !== c.target)
        loseAlias(c, alias, `already belongs to ${describe(directory, holder)}`);
    }
  }
  for (const [c, lost] of lostAliases) c.aliases = c.aliases.filter((a) => !lost.has(a));
}

/** Addresses more than one candidate claims (as primary or alias), with their claimants. */
function contestedAddresses(cands: readonly Candidate<unknown>[]): Map<string, Candidate<unknown>[]> {
  // One claimant per address is the rule; a list is made only for the rare second claimant.
  const claims = new Map<string, Candidate<unknown>>();
  const contested = new Map<string, Candidate<unknown>[]>();
  const claim = (a: string, c: Candidate<unknown>) => {
    const first = claims.get(a);
    if (first === undefined) {
      claims.set(a, c);
      return;
    }
    const list = contested.get(a);
    if (list) list.push(c);
    else contested.set(a, [first, c]);
  };
  for (const c of cands) {
    if (c.email !== null) claim(c.email, c);
    for (const a of c.aliases) claim(a, c);
  }
  return contested;
}

/**
 * A new user may take over a hand-made user with the same primary address (never a group, never
 * an object linked to Entra already): that links the two instead of calling it a conflict.
 */
function linkable(c: Candidate<unknown>, holder: User | Group, directory: PlanContext['directory']): boolean {
  return (
    c.type === 'user' &&
    c.target === undefined &&
    isDirectoryUser(directory, holder) &&
    holder.source === 'manual' &&
    holder.externalId === null &&
    holder.email === c.email
  );
}
