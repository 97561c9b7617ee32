import { normalizeAddress } from '../directory/addresses.js';
import type { SkippedEntry } from './changes.js';
import { readAddresses } from './classify.js';
import type { SourceGroup, SourceSnapshot, SourceUser } from './source.js';

/**
 * Which objects an incremental plan must judge (see plan()'s `focus` option). Pure.
 *
 * After a complete apply, every object of the source it was planned from is in step with the
 * directory, except those the plan skipped. A later source differs in a few objects; an object's
 * verdict depends only on its own record, on the other source objects claiming one of its
 * addresses, on the directory (unchanged since, by the basis) and, for a group, on how its members
 * are referred to. So the verdicts that can differ from "in step" are those of:
 * 1. objects whose record changed, appeared or vanished;
 * 2. objects the last plan skipped (an address released by that apply may be free now);
 * 3. every source object sharing an address with one of the above, and so on (closure);
 * 4. groups listing one of the above as a member (its reference may change: added, removed).
 * A group of (4) is judged too, so its own address sharers are added as well.
 */
export interface Focus {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

/** The focus of a plan of `next` against a directory in step with `previous` but for `skipped`. */
export function focusOf(
  previous: SourceSnapshot,
  next: SourceSnapshot,
  skipped: readonly Pick<SkippedEntry, 'objectType' | 'externalId'>[],
): Focus {
  const users = new Set<string>();
  const groups = new Set<string>();
  const before = {
    users: new Map(previous.users.map((u) => [u.externalId, u])),
    groups: new Map(previous.groups.map((g) => [g.externalId, g])),
  };
  const after = {
    users: new Map(next.users.map((u) => [u.externalId, u])),
    groups: new Map(next.groups.map((g) => [g.externalId, g])),
  };
  for (const [ext, u] of after.users) if (!sameUser(before.users.get(ext), u)) users.add(ext);
  for (const ext of before.users.keys()) if (!after.users.has(ext)) users.add(ext);
  for (const [ext, g] of after.groups) if (!sameGroup(before.groups.get(ext), g)) groups.add(ext);
  for (const ext of before.groups.keys()) if (!after.groups.has(ext)) groups.add(ext);
  for (const s of skipped) {
    if (s.externalId === undefined) continue;
    (s.objectType === 'user' ? users : groups).add(s.externalId);
  }

  // Who claims each address in the next source (a superset of plan()'s claims: scope and
  // domains are not judged here, which only makes the focus larger).
  const claimants = new Map<string, string[]>();
  const claim = (key: string, a: string) => {
    const list = claimants.get(a);
    if (list) list.push(key);
    else claimants.set(a, [key]);
  };
  for (const u of next.users) for (const a of addressKeys(u)) claim(`u${u.externalId}`, a);
  for (const g of next.groups) for (const a of addressKeys(g)) claim(`g${g.externalId}`, a);
  const memberOf = new Map<string, string[]>();
  for (const g of next.groups) {
    for (const id of g.memberUserIds) push(memberOf, `u${id}`, g.externalId);
    for (const id of g.memberGroupIds) push(memberOf, `g${id}`, g.externalId);
  }

  const queue: string[] = [...[...users].map((e) => `u${e}`), ...[...groups].map((e) => `g${e}`)];
  const judged = new Set(queue);
  /** Keys whose reference may change: their groups are judged. Groups judged only for that are not. */
  const add = (key: string, spreads: boolean) => {
    if (judged.has(key)) return;
    judged.add(key);
    (key[0] === 'u' ? users : groups).add(key.slice(1));
    if (spreads) queue.push(key);
    else closeAddresses(key);
  };
  const recordsOf = (key: string) => {
    const ext = key.slice(1);
    return key[0] === 'u'
      ? [before.users.get(ext), after.users.get(ext)]
      : [before.groups.get(ext), after.groups.get(ext)];
  };
  const closeAddresses = (key: string) => {
    for (const record of recordsOf(key)) {
      if (!record) continue;
      for (const a of addressKeys(record)) for (const other of claimants.get(a) ?? []) add(other, true);
    }
  };
  while (queue.length > 0) {
    const key = queue.pop()!;
    closeAddresses(key);
    for (const group of memberOf.get(key) ?? []) add(`g${group}`, false);
  }
  return { users, groups };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The normalized addresses an object could claim (primary and aliases, any domain). */
function addressKeys(o: SourceUser | SourceGroup): string[] {
  const raw = readAddresses(o.proxyAddresses, o.mail);
  const out: string[] = [];
  for (const a of raw.primary === null ? raw.aliases : [raw.primary, ...raw.aliases]) {
    const n = normalizeAddress(a);
    if (n !== null) out.push(n);
  }
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sameUser(a: SourceUser | undefined, b: SourceUser): boolean {
  if (a === b) return true;
  return (
    a !== undefined &&
    a.userPrincipalName === b.userPrincipalName &&
    a.userType === b.userType &&
    a.accountEnabled === b.accountEnabled &&
    a.mail === b.mail &&
    a.givenName === b.givenName &&
    a.surname === b.surname &&
    a.displayName === b.displayName &&
    sameList(a.proxyAddresses, b.proxyAddresses)
  );
}

function sameGroup(a: SourceGroup | undefined, b: SourceGroup): boolean {
  if (a === b) return true;
  return (
    a !== undefined &&
    a.displayName === b.displayName &&
    a.mail === b.mail &&
    a.mailEnabled === b.mailEnabled &&
    a.securityEnabled === b.securityEnabled &&
    sameList(a.groupTypes, b.groupTypes) &&
    sameList(a.proxyAddresses, b.proxyAddresses) &&
    sameList(a.memberUserIds, b.memberUserIds) &&
    sameList(a.memberGroupIds, b.memberGroupIds)
  );
}
