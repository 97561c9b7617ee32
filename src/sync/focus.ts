import { normalizeAddress } from '../directory/addresses.js';
import type { User } from '../directory/model.js';
import { recipientFacts } from '../directory/recipients.js';
import {
  type AddGroupChange,
  type AddUserChange,
  CATEGORIES,
  type Change,
  type Plan,
  type PlannedMember,
  type RemoveGroupChange,
  type RemoveUserChange,
  type SkippedEntry,
  type SkipReason,
  skippedByReason,
  type UpdateGroupChange,
  type UpdateUserChange,
} from './changes.js';
import { readAddresses } from './classify.js';
import { settleAddresses } from './plan/addresses.js';
import { addTo, type Counter, emptyTally, type Shares, type Tally } from './plan/context.js';
import { cmp } from './plan/fields.js';
import { compareGroups, scopeGroups } from './plan/groups.js';
import type { MemberDelta } from './plan/memberships.js';
import { compareUsers, scopeUsers } from './plan/users.js';
import { type SourceView, viewSource } from './plan/view.js';
import {
  billableAfter,
  type CurrentDirectory,
  type KeyedDirectory,
  keyDirectory,
  planContext,
} from './plan.js';
import type { SyncPolicy } from './policy.js';
import {
  claimKeys,
  deltaIds,
  type SourceDelta,
  type SourceGroup,
  type SourceSnapshot,
  type SourceUser,
} from './source.js';

export { emptyTally, type Tally } from './plan/context.js';
// What a focus that read a group in part throws when the group needs its whole member list.
export { WholeGroupNeeded } from './plan/memberships.js';

/**
 * Focused planning: after an apply, plan only the objects a delta changed and those they affect,
 * against only the directory rows those need, and get the very plan a full plan() would give.
 * Pure: no I/O of its own — the source's relations are asked through SourceRelations, which the
 * caller backs with the mirror's tables (deltaRelations) or with sources in memory.
 *
 * Why it holds. An object's verdict (its changes, skipped entries and its share of the counts)
 * reads only its own source record, its directory object, the directory's holders of the
 * addresses it claims, the other source objects claiming one of them (contests) and, for a group,
 * how its members are referred to once the plan is applied (refs). With the directory as the
 * last apply left it (the basis's fingerprint), a verdict can differ from the last plan's only
 * for an object that is *seeded* — its record changed, appeared or vanished since the mirror, or
 * it is *unsteady* (below) — or that claims an address a seeded object claims (closure), or
 * that is a group listing such an object (its member refs may change). The comparers judge an
 * object exactly only when they are also given every object its verdict reads: the claimants of
 * its addresses and, for a group, every group it lists (see compareGroups); member users outside
 * the focus are referred to as the directory has them (steady users are in step). `closeFocus`
 * computes that set.
 *
 * The counts (unchanged, switched off, blocked sign-in, initial-domain aliases) are sums over
 * objects, so those of the focused plan are the steady objects' sums (stored with the basis)
 * plus the focused objects' own. An apply makes some objects *unsteady*: their verdict against
 * the directory it leaves may differ from the one the plan gave — removals (a removed guest is
 * reported as skipped next time), unapplied (unticked) changes, and objects skipped for a
 * conflict or exemption (a released address may be free now) — closed like a focus. Every other
 * applied add or update leaves its object in step: counted unchanged from then on. The basis
 * keeps the unsteady ids and `steady`: the counts of every other object as they are after the
 * apply. The next plan takes
 *   counts = steady + judged(previous source, unsteady) − judged(previous source, focus)
 *            + judged(next source, focus)
 * (the focus contains the unsteady objects), all judged against the directory as it is now.
 * The apply finds its unsteady objects' counts in the plan's *shares* (judge records each
 * object's part of the sums); only an unsteady object the plan did not judge — a group outside
 * its focus that lists a removed member, say — makes it judge them all again.
 */

/** Entra ids, per kind. */
export interface Keys {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

/** A closed focus: its objects, and the groups among them that are read in part. */
export interface Focus extends Keys {
  /**
   * Steady groups of the focus that are in both snapshots: their membership is in step with the
   * directory but for the objects of the focus and the members their own record gained or lost.
   * Only those members are read and compared (src/sync/plan/memberships.ts
   * partialMembershipChange), not lists of thousands.
   */
  readInPart: ReadonlySet<string>;
  /** Of the groups read in part whose record changed: the members listed in one record and not the other. */
  memberDelta: ReadonlyMap<string, MemberDelta>;
}

/** The members listed by exactly one of a group's records (none: one record, or none differ). */
function memberDeltaOf(records: readonly SourceGroup[]): MemberDelta {
  const [a, b] = records;
  if (!a || !b) return { users: new Set(), groups: new Set() };
  return {
    users: symmetric(a.memberUserIds, b.memberUserIds),
    groups: symmetric(a.memberGroupIds, b.memberGroupIds),
  };
}

function symmetric(a: readonly string[], b: readonly string[]): Set<string> {
  const inA = new Set(a);
  const inB = new Set(b);
  const out = new Set<string>();
  for (const id of inA) if (!inB.has(id)) out.add(id);
  for (const id of inB) if (!inA.has(id)) out.add(id);
  return out;
}

/** What the basis keeps for focused planning (JSON). */
export interface FocusBasis {
  /** The counts of every object but the unsteady ones, against the directory the apply left. */
  steady: Tally;
  /** Objects whose verdict may have changed by the apply (closed: see closeFocus). */
  unsteady: { users: string[]; groups: string[] };
}

/** Reasons that depend on more than the object's own record and the domains (conflicts, exemption). */
const CONTEXT_REASONS: ReadonlySet<SkipReason> = new Set(['address_conflict', 'alias_conflict', 'exempt']);

// ---------------------------------------------------------------------------------------------
// Which objects

type NodeKey = string;
const userKey = (ext: string): NodeKey => `u${ext}`;
const groupKey = (ext: string): NodeKey => `g${ext}`;

/** The snapshot's relations a focus is closed under: who claims which address, who lists whom. */
export interface SourceIndex {
  /** Address (as normalizeAddress would give it, or a superset) → the objects claiming it. */
  claims: Map<string, NodeKey | NodeKey[]>;
  /**
   * A member's Entra id → the Entra ids of the groups listing it as a direct member, one map per
   * kind of member (keyed by the raw id: a prefixed key would be a new string to hash per membership).
   */
  userListers: Map<string, string | string[]>;
  groupListers: Map<string, string | string[]>;
  /** Every record indexed, by Entra id (several when the snapshots differ). */
  users: Map<string, SourceUser[]>;
  groups: Map<string, SourceGroup[]>;
}

/** Indexes the relations of every record of `snapshots` (e.g. the next snapshot and the changed records of the previous). */
export function indexSources(snapshots: readonly SourceSnapshot[]): SourceIndex {
  const index: SourceIndex = {
    claims: new Map(),
    userListers: new Map(),
    groupListers: new Map(),
    users: new Map(),
    groups: new Map(),
  };
  const seen = new Set<object>();
  for (const s of snapshots) {
    for (const u of s.users) {
      if (seen.has(u)) continue;
      seen.add(u);
      append(index.users, u.externalId, u);
      for (const a of claimKeys(u)) add(index.claims, a, userKey(u.externalId));
    }
    for (const g of s.groups) {
      if (seen.has(g)) continue;
      seen.add(g);
      append(index.groups, g.externalId, g);
      for (const a of claimKeys(g)) add(index.claims, a, groupKey(g.externalId));
      for (const id of g.memberUserIds) add(index.userListers, id, g.externalId);
      for (const id of g.memberGroupIds) add(index.groupListers, id, g.externalId);
    }
  }
  return index;
}

/** The records of a focus's objects: one each, or two for an object a delta changed (before and after). */
export interface FocusRecords {
  users: ReadonlyMap<string, readonly SourceUser[]>;
  groups: ReadonlyMap<string, readonly SourceGroup[]>;
}

/** A closed focus with the records it was closed over (what directoryKeys and judging read). */
export interface ClosedFocus extends Focus {
  records: FocusRecords;
}

/**
 * What a focus is closed under, asked in batches: the relations of every record of the previous
 * and the next source (an object the delta changed has both records). deltaRelations answers
 * from the source mirror's tables by key; indexRelations from sources in memory.
 */
export interface SourceRelations {
  records(ids: { users: readonly string[]; groups: readonly string[] }): Promise<{
    users: Map<string, SourceUser[]>;
    groups: Map<string, SourceGroup[]>;
  }>;
  /** Address key (claimKeys) → the objects claiming it. */
  claimants(keys: readonly string[]): Promise<Map<string, NodeKey[]>>;
  /** Member id → the groups listing it as a direct member, per kind of member. */
  listers(ids: {
    users: readonly string[];
    groups: readonly string[];
  }): Promise<{ users: Map<string, string[]>; groups: Map<string, string[]> }>;
}

/** The relations of sources indexed in memory (indexSources). */
export function indexRelations(index: SourceIndex): SourceRelations {
  const pick = <V, W>(map: ReadonlyMap<string, V>, keys: readonly string[], each: (v: V) => W) => {
    const out = new Map<string, W>();
    for (const k of keys) {
      const v = map.get(k);
      if (v !== undefined) out.set(k, each(v));
    }
    return out;
  };
  const all = (v: string | string[]) => [...list(v)];
  return {
    records: async (ids) => ({
      users: pick(index.users, ids.users, (v) => [...v]),
      groups: pick(index.groups, ids.groups, (v) => [...v]),
    }),
    claimants: async (keys) => pick(index.claims, keys, all),
    listers: async (ids) => ({
      users: pick(index.userListers, ids.users, all),
      groups: pick(index.groupListers, ids.groups, all),
    }),
  };
}

/** The source mirror's rows, by key (src/store/source-repository.ts). */
export interface MirrorLookup {
  users(ids: readonly string[]): Promise<SourceUser[]>;
  groups(ids: readonly string[]): Promise<SourceGroup[]>;
  claimants(keys: readonly string[]): Promise<{ key: string; type: 'user' | 'group'; externalId: string }[]>;
  listers(type: 'user' | 'group', ids: readonly string[]): Promise<{ memberId: string; groupId: string }[]>;
}

/**
 * The relations of the mirror (the previous source) and of the next source, the mirror with
 * `delta` applied: the mirror's rows by key, and the delta's records in memory. The mirror
 * holds the previous records of every changed object, so its claims and listers with those of
 * the delta's new records are those of both sources — as indexSources([next, previous's changed]).
 */
export function deltaRelations(mirror: MirrorLookup, delta: SourceDelta): SourceRelations {
  const changed = deltaIds(delta);
  const overlay = indexSources([delta.after, delta.before]);
  const merge = (into: Map<string, string[]>, key: string, values: Iterable<string>) => {
    const l = into.get(key) ?? [];
    for (const v of values) if (!l.includes(v)) l.push(v);
    into.set(key, l);
  };
  return {
    async records(ids) {
      const users = new Map<string, SourceUser[]>();
      const groups = new Map<string, SourceGroup[]>();
      for (const id of ids.users) if (changed.users.has(id)) users.set(id, index(overlay.users, id));
      for (const id of ids.groups) if (changed.groups.has(id)) groups.set(id, index(overlay.groups, id));
      for (const u of await mirror.users(ids.users.filter((id) => !changed.users.has(id))))
        users.set(u.externalId, [u]);
      for (const g of await mirror.groups(ids.groups.filter((id) => !changed.groups.has(id))))
        groups.set(g.externalId, [g]);
      return { users, groups };
    },
    async claimants(keys) {
      const out = new Map<string, NodeKey[]>();
      for (const c of await mirror.claimants(keys)) {
        merge(out, c.key, [c.type === 'user' ? userKey(c.externalId) : groupKey(c.externalId)]);
      }
      for (const k of keys) {
        const extra = overlay.claims.get(k);
        if (extra !== undefined) merge(out, k, list(extra));
      }
      return out;
    },
    async listers(ids) {
      const of = async (
        type: 'user' | 'group',
        keys: readonly string[],
        extra: Map<string, string | string[]>,
      ) => {
        const out = new Map<string, string[]>();
        for (const l of await mirror.listers(type, keys)) merge(out, l.memberId, [l.groupId]);
        for (const k of keys) {
          const more = extra.get(k);
          if (more !== undefined) merge(out, k, list(more));
        }
        return out;
      };
      return {
        users: await of('user', ids.users, overlay.userListers),
        groups: await of('group', ids.groups, overlay.groupListers),
      };
    },
  };
}

function index<V>(map: ReadonlyMap<string, V[]>, key: string): V[] {
  return map.get(key) ?? [];
}

/**
 * Closes a seed under what planning reads. Seeds may have a new verdict, and so may every object
 * claiming an address one of them claims (recursively); groups listing such an object are
 * judged too (their member list may change). Every judged object brings the claimants of its
 * addresses and, a group, the groups it lists: the comparers need them to judge it exactly.
 * The relations are asked for a wave of objects at a time (a few queries per wave, not per object).
 *
 * `readInPart`: a steady group (not one of `whole`, the unsteady ones) that is in both snapshots
 * (not a changed group with one record: added or gone) has its membership in step but for the
 * focused objects and the members its record gained or lost, so it is read in part (Focus) and
 * brings only those member groups, not all it lists. That holds when updates of groups are
 * switched on — a switched-off update leaves a group out of step — and against the directory the
 * basis was judged on, so not for the basis of an apply (judged before its writes).
 *
 * `spread: false`: the seeds are only to be judged, their verdicts unchanged — closed under what
 * those read (claimants, listed groups), not the groups listing them.
 */
export async function closeFocus(
  seed: Keys,
  relations: SourceRelations,
  options: {
    readInPart?: { whole: ReadonlySet<string>; changed: ReadonlySet<string> };
    spread?: boolean;
  } = {},
): Promise<ClosedFocus> {
  const records = { users: new Map<string, SourceUser[]>(), groups: new Map<string, SourceGroup[]>() };
  const claimants = new Map<string, readonly NodeKey[]>();
  const listers = {
    users: new Map<string, readonly string[]>(),
    groups: new Map<string, readonly string[]>(),
  };
  const listed = { users: new Set<string>(), groups: new Set<string>() };
  const part = options.readInPart;
  const inPart = (ext: string) =>
    part !== undefined &&
    !part.whole.has(ext) &&
    (!part.changed.has(ext) || (records.groups.get(ext)?.length ?? 0) === 2);
  const SPREADS = 2;
  const JUDGED = 1;
  const level = new Map<NodeKey, number>();
  let wave: NodeKey[] = [];
  const visit = (key: NodeKey, l: number) => {
    if ((level.get(key) ?? 0) >= l) return;
    level.set(key, l);
    wave.push(key);
  };
  const seedLevel = options.spread === false ? JUDGED : SPREADS;
  for (const ext of seed.users) visit(userKey(ext), seedLevel);
  for (const ext of seed.groups) visit(groupKey(ext), seedLevel);
  while (wave.length > 0) {
    const keys = wave;
    wave = [];
    // What this wave reads and no earlier wave fetched: records, then the claimants of their
    // addresses and, for objects that spread, the groups listing them.
    const fresh = { users: [] as string[], groups: [] as string[] };
    for (const key of keys) {
      const ext = key.slice(1);
      if (key[0] === 'u' ? !records.users.has(ext) : !records.groups.has(ext)) {
        (key[0] === 'u' ? fresh.users : fresh.groups).push(ext);
      }
    }
    const found = await relations.records({ users: unique(fresh.users), groups: unique(fresh.groups) });
    for (const ext of fresh.users) records.users.set(ext, found.users.get(ext) ?? []);
    for (const ext of fresh.groups) records.groups.set(ext, found.groups.get(ext) ?? []);
    const ownRecords = (key: NodeKey): readonly (SourceUser | SourceGroup)[] =>
      (key[0] === 'u' ? records.users.get(key.slice(1)) : records.groups.get(key.slice(1))) ?? [];
    const addresses = new Set<string>();
    for (const key of keys)
      for (const r of ownRecords(key)) for (const a of claimKeys(r)) if (!claimants.has(a)) addresses.add(a);
    const asked = { users: [] as string[], groups: [] as string[] };
    for (const key of keys) {
      if (level.get(key) !== SPREADS) continue;
      const ext = key.slice(1);
      const kind = key[0] === 'u' ? 'users' : 'groups';
      if (!listed[kind].has(ext)) {
        listed[kind].add(ext);
        asked[kind].push(ext);
      }
    }
    const [claimed, listing] = await Promise.all([
      relations.claimants([...addresses]),
      relations.listers({ users: unique(asked.users), groups: unique(asked.groups) }),
    ]);
    for (const a of addresses) claimants.set(a, claimed.get(a) ?? []);
    for (const ext of asked.users) listers.users.set(ext, listing.users.get(ext) ?? []);
    for (const ext of asked.groups) listers.groups.set(ext, listing.groups.get(ext) ?? []);
    for (const key of keys) {
      const l = level.get(key)!;
      const ext = key.slice(1);
      const own = ownRecords(key);
      for (const r of own)
        for (const a of claimKeys(r)) for (const other of claimants.get(a) ?? []) visit(other, l);
      if (key[0] === 'g') {
        const groups = own as SourceGroup[];
        const members = inPart(ext) ? memberDeltaOf(groups).groups : groups.flatMap((r) => r.memberGroupIds);
        for (const m of members) visit(groupKey(m), JUDGED);
      }
      if (l === SPREADS) {
        for (const g of (key[0] === 'u' ? listers.users : listers.groups).get(ext) ?? [])
          visit(groupKey(g), JUDGED);
      }
    }
  }
  const users = new Set<string>();
  const groups = new Set<string>();
  const readInPart = new Set<string>();
  const memberDelta = new Map<string, MemberDelta>();
  for (const key of level.keys()) {
    const ext = key.slice(1);
    if (key[0] === 'u') users.add(ext);
    else {
      groups.add(ext);
      if (!inPart(ext)) continue;
      readInPart.add(ext);
      if (part?.changed.has(ext)) memberDelta.set(ext, memberDeltaOf(records.groups.get(ext) ?? []));
    }
  }
  return { users, groups, readInPart, memberDelta, records };
}

function unique(ids: readonly string[]): string[] {
  return [...new Set(ids)];
}

/**
 * The previous and the next source as judging a focus reads them: the records of its objects
 * only — the delta's before and after for a changed object, the mirror's (in both) for any other.
 */
export function focusSources(
  focus: ClosedFocus,
  delta: SourceDelta,
): { previous: SourceSnapshot; next: SourceSnapshot } {
  const changed = deltaIds(delta);
  const side = <T extends { externalId: string }>(
    ids: ReadonlySet<string>,
    records: ReadonlyMap<string, readonly T[]>,
    changedIds: ReadonlySet<string>,
    delta: readonly T[],
  ): T[] => {
    const of = new Map(delta.map((o) => [o.externalId, o]));
    const out: T[] = [];
    for (const id of ids) {
      const r = changedIds.has(id) ? of.get(id) : records.get(id)?.[0];
      if (r) out.push(r);
    }
    return out;
  };
  const build = (s: SourceSnapshot): SourceSnapshot => ({
    users: side(focus.users, focus.records.users, changed.users, s.users),
    groups: side(focus.groups, focus.records.groups, changed.groups, s.groups),
  });
  return { previous: build(delta.before), next: build(delta.after) };
}

/** What a focus needs of the directory: loaded by key (DirectoryRepository.loadFocused). */
export interface DirectoryKeys {
  /** Users by Entra id: the focused ones, judged, so read whole. */
  userExternalIds: string[];
  /**
   * Users by Entra id that focused groups list and that are not focused themselves: only referred
   * to as members (by directory id, address and Entra id), so their aliases are not read.
   */
  memberExternalIds: string[];
  /** Groups by Entra id, read whole. */
  groupExternalIds: string[];
  /** Groups by Entra id read in part (Focus.readInPart): their members among the focused objects only. */
  partialGroupExternalIds: string[];
  /**
   * Users by Entra id that a group read in part gained or lost (Focus.memberDelta) and that are not
   * focused themselves: read as members, and their memberships of those groups with them.
   */
  deltaMemberExternalIds: string[];
  /** Holders of the addresses the focused objects claim (normalized). */
  addresses: string[];
}

/** The directory rows a focus is judged against, from the index's records of it. */
export function directoryKeys(focus: Keys & Partial<Focus>, index: FocusRecords): DirectoryKeys {
  const members = new Set<string>();
  const addresses = new Set<string>();
  const claim = (o: SourceUser | SourceGroup) => {
    const raw = readAddresses(o.proxyAddresses, o.mail);
    for (const a of raw.primary === null ? raw.aliases : [raw.primary, ...raw.aliases]) {
      const n = normalizeAddress(a);
      if (n !== null) addresses.add(n);
    }
  };
  for (const ext of focus.users) for (const u of index.users.get(ext) ?? []) claim(u);
  const whole: string[] = [];
  const partial: string[] = [];
  const delta = new Set<string>();
  for (const d of focus.memberDelta?.values() ?? [])
    for (const id of d.users) if (!focus.users.has(id)) delta.add(id);
  for (const ext of focus.groups) {
    const inPart = focus.readInPart?.has(ext) ?? false;
    (inPart ? partial : whole).push(ext);
    for (const g of index.groups.get(ext) ?? []) {
      claim(g);
      if (!inPart) for (const id of g.memberUserIds) if (!focus.users.has(id)) members.add(id);
    }
  }
  return {
    userExternalIds: [...focus.users],
    memberExternalIds: [...members],
    groupExternalIds: whole,
    partialGroupExternalIds: partial,
    deltaMemberExternalIds: [...delta],
    addresses: [...addresses],
  };
}

// ---------------------------------------------------------------------------------------------
// Judging

/** The verdicts on the objects of a focus: a plan's lists and counts, for those objects only. */
export interface Judged {
  usersToAdd: AddUserChange[];
  usersToUpdate: UpdateUserChange[];
  usersToRemove: RemoveUserChange[];
  groupsToAdd: AddGroupChange[];
  groupsToUpdate: UpdateGroupChange[];
  groupsToRemove: RemoveGroupChange[];
  skipped: SkippedEntry[];
  tally: Tally;
  /** Every object of the focus with its share of `tally`. */
  shares: JudgedShares;
}

/** Each judged object's share of the counts (plan/context.ts Shares), as entries (JSON: a stored plan keeps them). */
export interface JudgedShares {
  users: [string, Counter[]][];
  groups: [string, Counter[]][];
}

/*
 * A focused plan judges one directory and two snapshots three times: each is keyed once, by
 * identity. Planning never changes its inputs, so an input keyed once stays keyed right; the
 * weak maps let the keys go with the inputs.
 */
/** Source views with users read, and without (policy.what.users). */
const sourceViews = {
  true: new WeakMap<SourceSnapshot, SourceView>(),
  false: new WeakMap<SourceSnapshot, SourceView>(),
};
const keyedDirectories = new WeakMap<CurrentDirectory, KeyedDirectory>();

function keyedOnce<I extends object, K>(cache: WeakMap<I, K>, input: I, key: () => K): K {
  const keyed = cache.get(input) ?? key();
  cache.set(input, keyed);
  return keyed;
}

/**
 * Judges the objects of `focus` (closed: closeFocus) as plan() would, against a directory that
 * holds at least the rows directoryKeys names. Member users outside the focus are referred to as
 * the directory has them (outside a focus, users are in step) — or, with `plan` (the full plan
 * of this very source and directory), as its changes make them: added, readdressed, removed.
 */
export function judge(
  current: CurrentDirectory,
  source: SourceSnapshot,
  policy: SyncPolicy,
  focus: Keys & Partial<Focus>,
  options: { plan?: Plan } = {},
): Judged {
  const sourceView = keyedOnce(sourceViews[`${policy.what.users}`], source, () =>
    viewSource(source, policy.what.users),
  );
  const ctx = planContext(
    current,
    policy,
    keyedOnce(keyedDirectories, current, () => keyDirectory(current)),
  );
  const shares: Shares = { users: new Map(), groups: new Map() };
  ctx.report.shares = shares;
  const users = scopeUsers(ctx, sourceView, focus.users);
  const groups = scopeGroups(ctx, sourceView, focus.groups);
  settleAddresses(ctx, [...users.candidates.values(), ...groups.candidates.values()]);
  const userChanges = compareUsers(ctx, users, focus.users);
  const planned = new Map<string, Change>();
  for (const c of options.plan
    ? [...options.plan.usersToAdd, ...options.plan.usersToUpdate, ...options.plan.usersToRemove]
    : []) {
    planned.set(c.externalId, c);
  }
  const refs = new Map<string, PlannedMember>();
  for (const ext of focus.groups) {
    // A group read in part is compared on its focused members (they have refs of their own) and
    // on the members its record gained or lost.
    const listed = focus.readInPart?.has(ext)
      ? (focus.memberDelta?.get(ext)?.users ?? [])
      : (sourceView.groups.get(ext)?.memberUserIds ?? []);
    for (const id of listed) {
      if (focus.users.has(id) || refs.has(id)) continue;
      // As compareUsers refers to users: as added, as updated, gone when removed, else as they are.
      const c = planned.get(id);
      if (c?.kind === 'remove_user') continue;
      if (c?.kind === 'add_user') refs.set(id, { type: 'user', id: null, externalId: id, label: c.address });
      else if (c?.kind === 'update_user') {
        refs.set(id, { type: 'user', id: c.userId, externalId: id, label: c.address ?? '' });
      } else {
        const u = ctx.directory.usersByExternalId.get(id);
        if (u) refs.set(id, { type: 'user', id: u.id, externalId: id, label: u.email });
      }
    }
  }
  for (const [ext, ref] of userChanges.refs) refs.set(ext, ref);
  const groupChanges = compareGroups(ctx, groups, refs, focus.groups, focus);
  const { report } = ctx;
  // An object counted nowhere has a share too: none.
  for (const ext of focus.users) if (!shares.users.has(ext)) shares.users.set(ext, []);
  for (const ext of focus.groups) if (!shares.groups.has(ext)) shares.groups.set(ext, []);
  return {
    usersToAdd: userChanges.toAdd,
    usersToUpdate: userChanges.toUpdate,
    usersToRemove: userChanges.toRemove,
    groupsToAdd: groupChanges.toAdd,
    groupsToUpdate: groupChanges.toUpdate,
    groupsToRemove: groupChanges.toRemove,
    skipped: report.skipped,
    tally: {
      unchanged: report.unchanged,
      switchedOff: report.switchedOff,
      blockedSignIn: report.blockedSignIn,
      initialDomainAliases: report.initialDomainAliases,
    },
    shares: { users: [...shares.users], groups: [...shares.groups] },
  };
}

// ---------------------------------------------------------------------------------------------
// Counts

export function tallyOf(plan: Plan): Tally {
  return {
    unchanged: plan.unchanged,
    switchedOff: { ...plan.switchedOff },
    blockedSignIn: { ...plan.blockedSignIn },
    initialDomainAliases: plan.expectedLeftOut.initialDomainAliases,
  };
}

/** Those of `objects` that `shares` has no share for: judged elsewhere, or not at all. */
export function unshared(objects: Keys, shares: JudgedShares): Keys {
  const users = new Set(shares.users.map(([ext]) => ext));
  const groups = new Set(shares.groups.map(([ext]) => ext));
  return {
    users: new Set([...objects.users].filter((ext) => !users.has(ext))),
    groups: new Set([...objects.groups].filter((ext) => !groups.has(ext))),
  };
}

/** The sums of `objects` from their shares, each found in one of `shares` (see unshared). */
export function sharedTally(objects: Keys, ...shares: JudgedShares[]): Tally {
  const tally = emptyTally();
  const sum = (ids: ReadonlySet<string>, of: ReadonlyMap<string, readonly Counter[]>) => {
    for (const ext of ids) {
      const own = of.get(ext);
      if (own === undefined) throw new Error(`No share of the counts for ${ext}: it was not judged.`);
      for (const counter of own) addTo(tally, counter);
    }
  };
  sum(objects.users, new Map(shares.flatMap((s) => s.users)));
  sum(objects.groups, new Map(shares.flatMap((s) => s.groups)));
  return tally;
}

/** a + sign × b, field by field. */
function combine(a: Tally, b: Tally, sign: 1 | -1): Tally {
  const switchedOff = { ...a.switchedOff };
  for (const c of CATEGORIES) switchedOff[c] += sign * b.switchedOff[c];
  const blockedSignIn = { ...a.blockedSignIn };
  for (const k of Object.keys(blockedSignIn) as (keyof Plan['blockedSignIn'])[]) {
    blockedSignIn[k] += sign * b.blockedSignIn[k];
  }
  return {
    unchanged: a.unchanged + sign * b.unchanged,
    switchedOff,
    blockedSignIn,
    initialDomainAliases: a.initialDomainAliases + sign * b.initialDomainAliases,
  };
}

function changesOf(p: Judged | Plan): Change[] {
  return [
    ...p.usersToAdd,
    ...p.usersToUpdate,
    ...p.usersToRemove,
    ...p.groupsToAdd,
    ...p.groupsToUpdate,
    ...p.groupsToRemove,
  ];
}

const isUserChange = (c: Change) => c.kind.endsWith('_user');

/**
 * The objects an apply of `plan` leaves unsteady (before closing): its removals, its changes not
 * applied (`unapplied` change ids), its objects skipped for a conflict or an exemption, and
 * `listing`: the groups whose directory members include an object it removes (the removal takes
 * the membership away, which may settle a group's difference that was not applied).
 */
export function unsteadySeeds(
  plan: Plan,
  unapplied: ReadonlySet<string>,
  listing: Iterable<string> = [],
): Keys {
  const users = new Set<string>();
  const groups = new Set<string>(listing);
  for (const c of changesOf(plan)) {
    if (c.kind === 'remove_user' || c.kind === 'remove_group' || unapplied.has(c.id)) {
      (isUserChange(c) ? users : groups).add(c.externalId);
    }
  }
  for (const s of plan.skipped) {
    if (s.externalId !== undefined && CONTEXT_REASONS.has(s.reason)) {
      (s.objectType === 'user' ? users : groups).add(s.externalId);
    }
  }
  return { users, groups };
}

/**
 * The focus basis an apply of `plan` leaves: `unsteady` closed (closeFocus), `unsteadyTally` the
 * sums of its objects as plan() counted them (sharedTally, or judged against the directory the
 * plan was made against).
 */
export function focusBasis(
  plan: Plan,
  unsteady: Keys,
  unsteadyTally: Tally,
  unapplied: ReadonlySet<string>,
): FocusBasis {
  const steady = combine(tallyOf(plan), unsteadyTally, -1);
  // Applied adds and updates of steady objects leave them in step: unchanged from now on.
  for (const c of changesOf(plan)) {
    if (c.kind === 'remove_user' || c.kind === 'remove_group' || unapplied.has(c.id)) continue;
    if (!(isUserChange(c) ? unsteady.users : unsteady.groups).has(c.externalId)) steady.unchanged++;
  }
  return { steady, unsteady: { users: [...unsteady.users].sort(), groups: [...unsteady.groups].sort() } };
}

/** The basis's unsteady objects as keys. */
export function unsteadyKeys(basis: FocusBasis): Keys {
  return { users: new Set(basis.unsteady.users), groups: new Set(basis.unsteady.groups) };
}

const billable = (u: User) => recipientFacts(u).billable;

/**
 * The focused plan: the focus judged against the next source (`next`), the counts merged with
 * the steady objects' (see the top of this file), the skipped entries of objects outside the
 * focus kept from the last plan (those are steady: own-record reasons only), seats from the
 * basis's count moved by the planned changes. `loadedUsers` must hold every user a change targets.
 */
export function focusedPlan(input: {
  focus: Keys;
  next: Judged;
  /** The focus judged against the previous source (the mirror). */
  previousFocus: Judged;
  /** The basis's unsteady objects judged against the previous source. */
  previousUnsteady: Judged;
  steady: Tally;
  /** The last plan's skipped entries. */
  skipped: readonly SkippedEntry[];
  /** Billable users in the directory now (the basis's seats). */
  seats: number;
  loadedUsers: readonly User[];
}): Plan {
  const { focus, next } = input;
  const tally = combine(
    combine(combine(input.steady, input.previousUnsteady.tally, 1), input.previousFocus.tally, -1),
    next.tally,
    1,
  );
  const kept = input.skipped.filter(
    (s) =>
      s.externalId === undefined || !(s.objectType === 'user' ? focus.users : focus.groups).has(s.externalId),
  );
  const skipped = sortSkipped([...kept, ...next.skipped]);
  const changes = changesOf(next);
  const users = input.loadedUsers;
  const after = input.seats - users.filter(billable).length + billableAfter(users, changes);
  return {
    usersToAdd: sortChanges(next.usersToAdd),
    usersToUpdate: sortChanges(next.usersToUpdate),
    usersToRemove: sortChanges(next.usersToRemove),
    groupsToAdd: sortChanges(next.groupsToAdd),
    groupsToUpdate: sortChanges(next.groupsToUpdate),
    groupsToRemove: sortChanges(next.groupsToRemove),
    skipped,
    skippedByReason: skippedByReason(skipped),
    expectedLeftOut: { initialDomainAliases: tally.initialDomainAliases },
    unchanged: tally.unchanged,
    switchedOff: tally.switchedOff,
    blockedSignIn: tally.blockedSignIn,
    seats: { before: input.seats, after },
  };
}

// The orders plan() lists in (src/sync/plan.ts): the same comparisons.
function sortSkipped(skipped: SkippedEntry[]): SkippedEntry[] {
  return skipped.sort(
    (a, b) =>
      cmp(a.objectType, b.objectType) ||
      cmp(a.reason, b.reason) ||
      cmp(a.address ?? '', b.address ?? '') ||
      cmp(a.externalId ?? '', b.externalId ?? '') ||
      cmp(a.message, b.message),
  );
}

function sortChanges<C extends Change>(changes: C[]): C[] {
  return changes.sort(
    (a, b) => cmp(a.address ?? '', b.address ?? '') || cmp(a.name, b.name) || cmp(a.externalId, b.externalId),
  );
}

function append<V>(map: Map<string, V[]>, key: string, value: V): void {
  const l = map.get(key);
  if (l) l.push(value);
  else map.set(key, [value]);
}

/** Adds to a multimap that keeps one value bare (most keys have one). */
function add(map: Map<string, string | string[]>, key: string, value: string): void {
  const l = map.get(key);
  if (l === undefined) map.set(key, value);
  else if (typeof l === 'string') {
    if (l !== value) map.set(key, [l, value]);
  } else if (!l.includes(value)) l.push(value);
}

function list(v: string | string[] | undefined): readonly string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}
