/**
 * The source snapshot: what the Graph connector read from an Entra tenant, mapped to plain
 * records but not yet judged by any sync rule (the planner decides scope, addresses, kinds).
 * This is the contract between src/graph (producer) and src/sync (consumer).
 */

import type { MailboxKind } from '../directory/recipients.js';

/** An Entra user as read from Graph (the properties the rules need, and nothing else). */
export interface SourceUser {
  /** Entra object id (GUID): the identity used for linking, never the address. */
  externalId: string;
  userPrincipalName: string;
  /** 'Member' | 'Guest' (null when Graph did not say). */
  userType: string | null;
  accountEnabled: boolean;
  mail: string | null;
  /** Raw proxyAddresses entries, e.g. 'SMTP:a@x.com', 'smtp:b@x.com', 'X500:/o=…'. */
  proxyAddresses: string[];
  givenName: string | null;
  surname: string | null;
  displayName: string | null;
  /**
   * Exchange's mailbox purpose (mailboxSettings.userPurpose), read only where it decides
   * something: for users with a mailbox whose sign-in is blocked. null: unknown — not needed,
   * not permitted (no MailboxSettings.Read), or not read yet.
   */
  mailbox: MailboxKind | null;
}

/** An Entra group with its direct members (ids of users and groups; other member types dropped). */
export interface SourceGroup {
  externalId: string;
  displayName: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  /** e.g. ['Unified'] for Microsoft 365 groups, ['DynamicMembership'] for dynamic ones. */
  groupTypes: string[];
  proxyAddresses: string[];
  /** Entra ids of direct member users. */
  memberUserIds: string[];
  /** Entra ids of direct member groups (nested groups). */
  memberGroupIds: string[];
}

/** A complete picture of the tenant's users and groups at one moment. */
export interface SourceSnapshot {
  users: SourceUser[];
  groups: SourceGroup[];
}

/** Field by field (lists element by element): any field a record gains is compared too. */
export function sameRecord(a: object, b: object): boolean {
  if (a === b) return true;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) {
    const u = x[k];
    const v = y[k];
    if (u === v) continue;
    if (!Array.isArray(u) || !Array.isArray(v) || u.length !== v.length) return false;
    for (let i = 0; i < u.length; i++) if (u[i] !== v[i]) return false;
  }
  return true;
}

/**
 * What a delta read changed of the mirror, as records: `before`, the mirror's records of the
 * objects whose record differs; `after`, their records now. An object only in `after` was added,
 * one only in `before` is gone. Every other object is as the mirror has it, so a 1 % change is
 * 1 % of the tenant here, never the whole.
 */
export interface SourceDelta {
  before: SourceSnapshot;
  after: SourceSnapshot;
}

/** The delta between two pictures of the same objects (e.g. the mirror's and a delta round's): objects whose record is the same are dropped. */
export function sourceDelta(before: SourceSnapshot, after: SourceSnapshot): SourceDelta {
  const keep = <T extends { externalId: string }>(a: readonly T[], b: readonly T[]) => {
    const other = new Map(b.map((o) => [o.externalId, o]));
    return a.filter((o) => {
      const twin = other.get(o.externalId);
      return twin === undefined || !sameRecord(o, twin);
    });
  };
  return {
    before: { users: keep(before.users, after.users), groups: keep(before.groups, after.groups) },
    after: { users: keep(after.users, before.users), groups: keep(after.groups, before.groups) },
  };
}

/** Whether the delta changes nothing. */
export function emptyDelta(delta: SourceDelta): boolean {
  const { before, after } = delta;
  return before.users.length + before.groups.length + after.users.length + after.groups.length === 0;
}

/** The Entra ids the delta names (changed, added or gone), per kind. */
export function deltaIds(delta: SourceDelta): { users: Set<string>; groups: Set<string> } {
  const ids = <T extends { externalId: string }>(a: readonly T[], b: readonly T[]) =>
    new Set([...a, ...b].map((o) => o.externalId));
  return {
    users: ids(delta.before.users, delta.after.users),
    groups: ids(delta.before.groups, delta.after.groups),
  };
}

/** The whole next picture: `previous` (the mirror, whole) with the delta applied, in Entra id order. */
export function applyDelta(previous: SourceSnapshot, delta: SourceDelta): SourceSnapshot {
  const apply = <T extends { externalId: string }>(
    all: readonly T[],
    gone: readonly T[],
    now: readonly T[],
  ) => {
    if (gone.length + now.length === 0) return [...all];
    const byId = new Map(all.map((o) => [o.externalId, o]));
    for (const o of gone) byId.delete(o.externalId);
    for (const o of now) byId.set(o.externalId, o);
    return [...byId.values()].sort(byExternalId);
  };
  return {
    users: apply(previous.users, delta.before.users, delta.after.users),
    groups: apply(previous.groups, delta.before.groups, delta.after.groups),
  };
}

/** Entra ids in code-unit order: the order the connector and the mirror list objects in. */
export function byExternalId(a: { externalId: string }, b: { externalId: string }): number {
  return a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0;
}

/**
 * The addresses a record may claim, as keys: two raw addresses that normalizeAddress
 * (src/directory/addresses.ts) makes equal get the same key — for a valid address the key is
 * its normalized form (lower case, no white space, no final dot) — a superset of plan()'s
 * claims, since neither validity nor domains are judged here. The source mirror keeps them
 * (source_claims), so a change finds the other claimants of its addresses by key.
 */
export function claimKeys(o: Pick<SourceUser | SourceGroup, 'proxyAddresses' | 'mail'>): string[] {
  const out = new Set<string>();
  const take = (raw: string) => {
    const key = raw.toLowerCase().replace(/\s+/g, '').replace(/\.$/, '');
    // No valid address is longer than 254 characters or holds a NUL (which PostgreSQL's text refuses).
    if (key.length <= 254 && !key.includes('\u0000')) out.add(key);
  };
  for (const entry of o.proxyAddresses) {
    const colon = entry.indexOf(':');
    if (colon < 0 || entry.slice(0, colon).trim().toLowerCase() !== 'smtp') continue;
    const address = entry.slice(colon + 1);
    if (address.trim()) take(address);
  }
  if (o.mail?.trim()) take(o.mail);
  return [...out];
}
