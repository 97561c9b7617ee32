import {
  domainOf,
  isMicrosoftInitialDomain,
  normalizeAddress,
  normalizeDomain,
  PENDING_ACCEPTS_NO_ADDRESS,
} from '../directory/addresses.js';
import { AppError } from '../directory/errors.js';
import type { Group, GroupKind, User } from '../directory/model.js';
import { entraStatus, recipientFacts } from '../directory/recipients.js';
import { withoutControlCharacters } from '../directory/text.js';
import {
  type AddGroupChange,
  type AddUserChange,
  type Category,
  type Change,
  changeId,
  type GroupFields,
  type Plan,
  type PlannedMember,
  type RemovalReason,
  type RemoveGroupChange,
  type RemoveUserChange,
  type SkippedEntry,
  type SkipReason,
  skippedByReason,
  type UpdateGroupChange,
  type UpdateUserChange,
  type UserFields,
} from './changes.js';
import { classifyGroup, isGuest, readAddresses } from './classify.js';
import type { SyncPolicy } from './policy.js';
import type { SourceGroup, SourceSnapshot, SourceUser } from './source.js';

/**
 * plan(): compares the directory with an Entra snapshot and lists the changes sync would make.
 * Pure: no I/O, no clock, no randomness; the same input (in any order) gives the same plan.
 *
 * Addresses are judged against the directory as it is now: an address still held by another
 * object (even one this plan updates or removes) is a conflict, so every planned change is valid
 * on its own, whichever subset the admin ticks and in whatever order apply runs them. An address
 * that moves between objects therefore arrives one run after it was released.
 */

/** The organization's directory as plan() sees it. */
export interface CurrentDirectory {
  orgId: string;
  /** Proven domains: addresses in them are synced. */
  domains: string[];
  /** Domains added but not proven yet: addresses in them are skipped, saying so. */
  pendingDomains: string[];
  users: User[];
  groups: Group[];
  /** Addresses held by other organizations of the service: claiming one is a conflict. */
  addressesTakenElsewhere?: ReadonlySet<string>;
}

/** How the source was read. */
export interface PlanOptions {
  /** False after a partial or failed read: then no removal is ever planned. */
  sourceComplete?: boolean;
}

type ObjectType = 'user' | 'group';

/** A source object that passed the scope rules, with its validated addresses. */
interface Candidate<S> {
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
  linking: boolean;
}

type UserCandidate = Candidate<SourceUser>;
type GroupCandidate = Candidate<SourceGroup> & { kind: GroupKind };

interface OutOfScope {
  reason: RemovalReason;
  message: string;
  /** A skipped entry explaining it, reported unless a removal says the same. */
  skipped: SkippedEntry | null;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The longest name the directory keeps, as the API accepts (longer Entra names are cut). */
export const NAME_MAX = 256;

/**
 * A name from Entra as the directory keeps it: control characters taken out, trimmed, cut to
 * NAME_MAX — one odd display name never fails a sync; null when nothing is left.
 */
function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const name = withoutControlCharacters(value).trim().slice(0, NAME_MAX).trim();
  return name || null;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function sortChanges<C extends Change>(changes: C[]): C[] {
  return changes.sort(
    (a, b) => cmp(a.address ?? '', b.address ?? '') || cmp(a.name, b.name) || cmp(a.externalId, b.externalId),
  );
}

function memberKey(m: PlannedMember): string {
  return m.id !== null ? `${m.type}:${m.id}` : `${m.type}+${m.externalId}`;
}

function sortMembers(members: PlannedMember[]): PlannedMember[] {
  return members.sort(
    (a, b) =>
      cmp(a.type, b.type) ||
      cmp(a.label, b.label) ||
      cmp(a.externalId ?? '', b.externalId ?? '') ||
      cmp(a.id ?? '', b.id ?? ''),
  );
}

/** Indexes objects by external id; on a (corrupt) duplicate the smallest directory id wins. */
function byExternalId<T extends User | Group>(objects: readonly T[]): Map<string, T> {
  const map = new Map<string, T>();
  for (const o of objects) {
    if (!o.externalId) continue;
    const seen = map.get(o.externalId);
    if (!seen || o.id < seen.id) map.set(o.externalId, o);
  }
  return map;
}

/**
 * Checks that no object appears twice. The connector merges pages and deltas by id; a duplicate
 * means the snapshot is broken, and guessing which copy is current could undo a real change.
 * (No sorting here: every output list is sorted at the end, which is what makes plans
 * independent of input order.)
 */
function checkUnique<T extends { externalId: string }>(items: readonly T[], what: string): readonly T[] {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.externalId)) {
      throw new AppError('internal', `The Entra snapshot lists ${what} ${item.externalId} twice.`);
    }
    seen.add(item.externalId);
  }
  return items;
}

/** Plans the changes that bring the directory in step with the Entra snapshot under the policy. */
export function plan(
  current: CurrentDirectory,
  source: SourceSnapshot,
  policy: SyncPolicy,
  options: PlanOptions = {},
): Plan {
  const removalsAllowed = options.sourceComplete !== false;
  const domains = new Set(current.domains.map((d) => normalizeDomain(d) ?? d.toLowerCase()));
  const domainList = [...domains].sort().join(', ');
  const pending = new Set(current.pendingDomains);
  const takenElsewhere = current.addressesTakenElsewhere ?? new Set<string>();

  const skipped: SkippedEntry[] = [];
  // Aliases in Microsoft's initial/routing domains (every Entra object has one): counted, not listed.
  let initialDomainAliases = 0;
  let unchanged = 0;
  const switchedOff: Record<Category, number> = {
    usersToAdd: 0,
    usersToUpdate: 0,
    usersToRemove: 0,
    groupsToAdd: 0,
    groupsToUpdate: 0,
    groupsToRemove: 0,
  };
  const skip = (
    reason: SkipReason,
    message: string,
    objectType: ObjectType,
    externalId?: string,
    address?: string | null,
    name?: string | null,
  ): SkippedEntry => {
    const entry: SkippedEntry = { reason, message, objectType };
    if (externalId !== undefined) entry.externalId = externalId;
    if (address) entry.address = address;
    if (name) entry.name = name;
    return entry;
  };

  // --- The directory as it is --------------------------------------------------------------
  const usersById = new Map(current.users.map((u) => [u.id, u]));
  const groupsById = new Map(current.groups.map((g) => [g.id, g]));
  const usersByExt = byExternalId(current.users);
  const groupsByExt = byExternalId(current.groups);
  // Who holds each address now. Should the directory hold a duplicate, the smallest id wins, so
  // the answer does not depend on row order.
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
  const describe = (o: User | Group): string => {
    const isUser = usersById.get(o.id) === o;
    const what = isUser ? 'user' : 'group';
    const label = isUser ? (o as User).email : ((o as Group).email ?? (o as Group).name);
    if (o.source === 'manual' || !o.externalId) return `the hand-made ${what} ${label}`;
    return `the ${what} ${label} (Entra object ${o.externalId})`;
  };

  // --- Scope and addresses of each source object ---------------------------------------------
  const userOut = new Map<string, OutOfScope>();
  const groupOut = new Map<string, OutOfScope>();
  const userCands: UserCandidate[] = [];
  const groupCands: GroupCandidate[] = [];

  /**
   * Validates the addresses of an in-scope object against the organization's domains. `blocked`
   * when the primary makes it unsyncable; its aliases are then not judged (nothing is synced).
   */
  const addresses = (
    type: ObjectType,
    externalId: string,
    label: string,
    raw: { primary: string | null; aliases: string[] },
  ): { email: string | null; aliases: string[]; blocked: boolean } => {
    const noun = type === 'user' ? 'user' : 'group';
    let email: string | null = null;
    let blocked = false;
    if (raw.primary !== null) {
      email = normalizeAddress(raw.primary);
      if (email === null) {
        blocked = true;
        skipped.push(
          skip(
            'primary_invalid',
            `The primary address "${raw.primary}" of ${label} is not a valid email address: the ${noun} is not synced until it is corrected in Entra.`,
            type,
            externalId,
            raw.primary,
            label,
          ),
        );
      } else if (pending.has(domainOf(email))) {
        blocked = true;
        skipped.push(
          skip(
            'primary_pending_domain',
            `The primary address ${email} of ${label} is in ${domainOf(email)}, which is pending: the ${noun} is not synced until it is proven — ${PENDING_ACCEPTS_NO_ADDRESS}`,
            type,
            externalId,
            email,
            label,
          ),
        );
      } else if (!domains.has(domainOf(email))) {
        blocked = true;
        skipped.push(
          skip(
            'primary_foreign_domain',
            `The primary address ${email} of ${label} is not in one of the organization's domains (${domainList || 'none'}): the ${noun} is not synced. Add the domain to the organization or change the address in Entra.`,
            type,
            externalId,
            email,
            label,
          ),
        );
      }
    }
    if (blocked) return { email, aliases: [], blocked };
    const aliases = new Set<string>();
    const expected = new Set<string>();
    for (const rawAlias of raw.aliases) {
      const alias = normalizeAddress(rawAlias);
      if (alias === null) {
        skipped.push(
          skip(
            'alias_invalid',
            `The alias "${rawAlias}" of ${label} is not a valid email address: it is left out (the ${noun} is synced without it).`,
            type,
            externalId,
            rawAlias,
            label,
          ),
        );
      } else if (pending.has(domainOf(alias))) {
        skipped.push(
          skip(
            'alias_pending_domain',
            `The alias ${alias} of ${label} is in ${domainOf(alias)}, which is pending: it is left out (the ${noun} is synced without it) — ${PENDING_ACCEPTS_NO_ADDRESS}`,
            type,
            externalId,
            alias,
            label,
          ),
        );
      } else if (!domains.has(domainOf(alias)) && isMicrosoftInitialDomain(domainOf(alias))) {
        expected.add(alias);
      } else if (!domains.has(domainOf(alias))) {
        skipped.push(
          skip(
            'alias_foreign_domain',
            `The alias ${alias} of ${label} is not in one of the organization's domains (${domainList || 'none'}): it is left out (the ${noun} is synced without it).`,
            type,
            externalId,
            alias,
            label,
          ),
        );
      } else if (alias !== email) {
        aliases.add(alias);
      }
    }
    initialDomainAliases += expected.size;
    return { email, aliases: [...aliases].sort(), blocked };
  };

  if (policy.what.users) {
    for (const u of checkUnique(source.users, 'the user')) {
      const label = u.userPrincipalName || u.externalId;
      if (isGuest(u) && !policy.includeGuests) {
        userOut.set(u.externalId, {
          reason: 'out_of_scope',
          message: `${label} is now a guest user in Entra, and guests are not synced.`,
          skipped: skip(
            'guest',
            `${label} is a guest user: guests are not synced.`,
            'user',
            u.externalId,
            clean(u.mail),
            label,
          ),
        });
        continue;
      }
      const raw = readAddresses(u.proxyAddresses, u.mail);
      if (raw.primary === null) {
        userOut.set(u.externalId, {
          reason: 'out_of_scope',
          message: `${label} has no email address in Entra any more.`,
          skipped: skip(
            'no_mailbox',
            `${label} has no email address (no SMTP proxy address and no mail): there is nothing to sync.`,
            'user',
            u.externalId,
            null,
            label,
          ),
        });
        continue;
      }
      const a = addresses('user', u.externalId, label, raw);
      userCands.push({
        type: 'user',
        src: u,
        externalId: u.externalId,
        label,
        email: a.email,
        aliases: a.aliases,
        blocked: a.blocked,
        target: usersByExt.get(u.externalId),
        linking: false,
      });
    }
  }

  for (const g of checkUnique(source.groups, 'the group')) {
    const kind = classifyGroup(g);
    const label = clean(g.displayName) ?? g.externalId;
    if (kind === null) {
      groupOut.set(g.externalId, {
        reason: 'out_of_scope',
        message: `${label} is neither mail-enabled nor a security group in Entra any more.`,
        skipped: null,
      });
      continue;
    }
    if (!policy.what[kind]) {
      // Out of scope by the admin's choice: not worth a skipped entry per group.
      groupOut.set(g.externalId, {
        reason: 'out_of_scope',
        message: `${label} is a ${kind} group in Entra, and ${kind} groups are not synced.`,
        skipped: null,
      });
      continue;
    }
    const a = addresses('group', g.externalId, label, readAddresses(g.proxyAddresses, g.mail));
    groupCands.push({
      type: 'group',
      kind,
      src: g,
      externalId: g.externalId,
      label,
      email: a.email,
      aliases: a.aliases,
      blocked: a.blocked,
      target: groupsByExt.get(g.externalId),
      linking: false,
    });
  }

  // --- Addresses claimed twice in the source: nobody gets them ----------------------------------
  const cands: Candidate<unknown>[] = [...userCands, ...groupCands].filter((c) => !c.blocked);
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
  const lostAliases = new Map<Candidate<unknown>, Set<string>>();
  const loseAlias = (c: Candidate<unknown>, alias: string, reason: string) => {
    const set = lostAliases.get(c) ?? new Set<string>();
    lostAliases.set(c, set);
    set.add(alias);
    const noun = c.type;
    skipped.push(
      skip(
        'alias_conflict',
        `The alias ${alias} of ${c.label} ${reason}: it is left out (the ${noun} is synced without it).`,
        c.type,
        c.externalId,
        alias,
        c.label,
      ),
    );
  };
  const block = (c: Candidate<unknown>, reason: string) => {
    c.blocked = true;
    skipped.push(
      skip(
        'address_conflict',
        `The address ${c.email} of ${c.label} ${reason}: the ${c.type} is not synced until that is resolved.`,
        c.type,
        c.externalId,
        c.email,
        c.label,
      ),
    );
  };
  for (const [address, list] of contested) {
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

  // --- Addresses held in the directory by another object; linking hand-made users --------------
  for (const c of cands) {
    if (c.blocked) continue;
    if (c.email !== null) {
      const holder = holders.get(c.email);
      if (takenElsewhere.has(c.email)) {
        block(c, 'is used by another organization');
        continue;
      }
      if (holder && holder !== c.target) {
        const linkable =
          c.type === 'user' &&
          c.target === undefined &&
          usersById.get(holder.id) === holder &&
          holder.source === 'manual' &&
          holder.externalId === null &&
          (holder as User).email === c.email;
        if (linkable) {
          c.target = holder;
          c.linking = true;
        } else {
          block(c, `already belongs to ${describe(holder)}`);
          continue;
        }
      }
    }
    for (const alias of c.aliases) {
      if (lostAliases.get(c)?.has(alias)) continue;
      const holder = holders.get(alias);
      if (takenElsewhere.has(alias)) loseAlias(c, alias, 'is used by another organization');
      else if (holder && holder !== c.target) loseAlias(c, alias, `already belongs to ${describe(holder)}`);
    }
  }
  for (const [c, lost] of lostAliases) c.aliases = c.aliases.filter((a) => !lost.has(a));

  // --- Users ----------------------------------------------------------------------------------
  const usersToAdd: AddUserChange[] = [];
  const usersToUpdate: UpdateUserChange[] = [];
  const usersToRemove: RemoveUserChange[] = [];
  /** Entra user id → the user as a member, for every user that exists once the plan is applied. */
  const userRefs = new Map<string, PlannedMember>();
  const removedUsers = new Set<string>();

  if (policy.what.users) {
    const seen = new Set<string>(userCands.map((c) => c.externalId));
    for (const [ext, u] of usersByExt) {
      if (seen.has(ext) || u.source !== 'entra') continue;
      const out = userOut.get(ext);
      const reason: RemovalReason = out?.reason ?? 'deleted';
      const message = out?.message ?? `${u.email} no longer exists in Entra.`;
      if (!removalsAllowed) continue;
      if (!policy.how.removeUsers) {
        switchedOff.usersToRemove++;
        continue;
      }
      if (u.exempt) {
        skipped.push(
          skip(
            'exempt',
            `${u.email} is exempt from sync: it is not removed (${message})`,
            'user',
            ext,
            u.email,
          ),
        );
        continue;
      }
      removedUsers.add(ext);
      usersToRemove.push({
        kind: 'remove_user',
        id: changeId('remove_user', ext, u.id),
        externalId: ext,
        address: u.email,
        name: u.displayName ?? u.email,
        reason,
        message,
        userId: u.id,
      });
    }
  }
  for (const [ext, out] of userOut) {
    if (out.skipped && !removedUsers.has(ext)) skipped.push(out.skipped);
  }
  for (const [ext, u] of usersByExt) {
    if (!removedUsers.has(ext))
      userRefs.set(ext, { type: 'user', id: u.id, externalId: ext, label: u.email });
  }

  const blockedSignIn: Plan['blockedSignIn'] = { functional: 0, person: 0, rule: 0 };
  for (const c of userCands) {
    if (c.blocked) continue;
    const s = c.src;
    const email = c.email!;
    const target = c.target as User | undefined;
    // A purpose once known stays known while the source has none to say (it is read only for
    // mailboxes with sign-in blocked, and not at all without MailboxSettings.Read).
    const mailbox = s.mailbox ?? target?.mailbox ?? null;
    const decided = entraStatus(s.accountEnabled, mailbox, policy.blockedMailboxes);
    if (decided.decision !== 'enabled') blockedSignIn[decided.decision]++;
    const wanted: UserFields = {
      email,
      aliases: c.aliases,
      firstName: clean(s.givenName),
      lastName: clean(s.surname),
      displayName: clean(s.displayName),
      status: decided.status,
      mailbox,
      source: 'entra',
      externalId: c.externalId,
    };
    const name = wanted.displayName ?? email;
    if (!target) {
      if (!policy.how.addUsers) {
        switchedOff.usersToAdd++;
        continue;
      }
      const user = {
        email,
        aliases: wanted.aliases,
        firstName: wanted.firstName,
        lastName: wanted.lastName,
        displayName: wanted.displayName,
        role: policy.defaultRole,
        status: wanted.status,
        mailbox: wanted.mailbox,
        source: 'entra' as const,
        externalId: c.externalId,
      };
      usersToAdd.push({
        kind: 'add_user',
        id: changeId('add_user', c.externalId, user),
        externalId: c.externalId,
        address: email,
        name,
        user,
      });
      userRefs.set(c.externalId, { type: 'user', id: null, externalId: c.externalId, label: email });
      continue;
    }
    const before: Partial<UserFields> = {};
    const after: Partial<UserFields> = {};
    const keys = [
      'email',
      'firstName',
      'lastName',
      'displayName',
      'status',
      'mailbox',
      'source',
      'externalId',
    ] as const;
    for (const k of keys) {
      if (target[k] !== wanted[k]) {
        (before as Record<string, unknown>)[k] = target[k];
        (after as Record<string, unknown>)[k] = wanted[k];
      }
    }
    const currentAliases = [...target.aliases].sort();
    if (!sameList(currentAliases, wanted.aliases)) {
      before.aliases = currentAliases;
      after.aliases = wanted.aliases;
    }
    const fields = Object.keys(after);
    if (fields.length === 0) {
      unchanged++;
      continue;
    }
    if (!policy.how.updateUsers) {
      switchedOff.usersToUpdate++;
      continue;
    }
    if (target.exempt) {
      const would = c.linking ? 'linked to Entra' : `updated (${fields.join(', ')})`;
      skipped.push(
        skip(
          'exempt',
          `${target.email} is exempt from sync: it would have been ${would}.`,
          'user',
          c.externalId,
          target.email,
          name,
        ),
      );
      continue;
    }
    usersToUpdate.push({
      kind: 'update_user',
      id: changeId('update_user', c.externalId, [target.id, before, after]),
      externalId: c.externalId,
      address: email,
      name,
      reason: c.linking ? 'linked' : 'changed',
      userId: target.id,
      before,
      after,
    });
    userRefs.set(c.externalId, { type: 'user', id: target.id, externalId: c.externalId, label: email });
  }

  // --- Groups ---------------------------------------------------------------------------------
  const groupsToAdd: AddGroupChange[] = [];
  const groupsToUpdate: UpdateGroupChange[] = [];
  const groupsToRemove: RemoveGroupChange[] = [];
  const groupRefs = new Map<string, PlannedMember>();
  const removedGroups = new Set<string>();
  const groupLabel = (g: { email: string | null; name: string }) => g.email ?? g.name;

  const seenGroups = new Set<string>(groupCands.map((c) => c.externalId));
  for (const [ext, g] of groupsByExt) {
    // A kind that is not synced is left alone entirely, removals included.
    if (seenGroups.has(ext) || g.source !== 'entra' || !policy.what[g.kind]) continue;
    const out = groupOut.get(ext);
    const message = out?.message ?? `${g.name} no longer exists in Entra.`;
    if (!removalsAllowed) continue;
    if (!policy.how.removeGroups) {
      switchedOff.groupsToRemove++;
      continue;
    }
    if (g.exempt) {
      skipped.push(
        skip(
          'exempt',
          `${g.name} is exempt from sync: it is not removed (${message})`,
          'group',
          ext,
          g.email,
          g.name,
        ),
      );
      continue;
    }
    removedGroups.add(ext);
    groupsToRemove.push({
      kind: 'remove_group',
      id: changeId('remove_group', ext, g.id),
      externalId: ext,
      address: g.email,
      name: g.name,
      reason: out?.reason ?? 'deleted',
      message,
      groupId: g.id,
    });
  }
  for (const [ext, g] of groupsByExt) {
    if (!removedGroups.has(ext))
      groupRefs.set(ext, { type: 'group', id: g.id, externalId: ext, label: groupLabel(g) });
  }
  // Groups added or readdressed by this plan, before any member list refers to them.
  const plannedGroups: { c: GroupCandidate; wanted: Omit<GroupFields, 'members'> }[] = [];
  for (const c of groupCands) {
    if (c.blocked) continue;
    const wanted = { name: c.label, kind: c.kind, email: c.email, aliases: c.aliases };
    const target = c.target as Group | undefined;
    if (!target) {
      if (!policy.how.addGroups) {
        switchedOff.groupsToAdd++;
        continue;
      }
      groupRefs.set(c.externalId, {
        type: 'group',
        id: null,
        externalId: c.externalId,
        label: groupLabel(wanted),
      });
    } else if (policy.how.updateGroups && !target.exempt) {
      groupRefs.set(c.externalId, {
        type: 'group',
        id: target.id,
        externalId: c.externalId,
        label: groupLabel(wanted),
      });
    }
    plannedGroups.push({ c, wanted });
  }

  const currentMember = (m: Group['members'][number]): PlannedMember => {
    if (m.type === 'user') {
      const u = usersById.get(m.id);
      return { type: 'user', id: m.id, externalId: u?.externalId ?? null, label: u?.email ?? m.id };
    }
    const g = groupsById.get(m.id);
    return { type: 'group', id: m.id, externalId: g?.externalId ?? null, label: g ? groupLabel(g) : m.id };
  };

  for (const { c, wanted } of plannedGroups) {
    const s = c.src;
    const members: PlannedMember[] = [];
    const keys = new Set<string>();
    let membersLeftOut = 0;
    const addMember = (ref: PlannedMember | undefined) => {
      if (!ref) {
        membersLeftOut++;
        return;
      }
      const key = memberKey(ref);
      if (keys.has(key)) return;
      keys.add(key);
      members.push(ref);
    };
    for (const id of new Set(s.memberUserIds)) addMember(userRefs.get(id));
    for (const id of new Set(s.memberGroupIds)) {
      if (id !== c.externalId) addMember(groupRefs.get(id));
    }
    sortMembers(members);
    const target = c.target as Group | undefined;
    if (!target) {
      const group = { ...wanted, source: 'entra' as const, externalId: c.externalId, members };
      groupsToAdd.push({
        kind: 'add_group',
        id: changeId('add_group', c.externalId, group),
        externalId: c.externalId,
        address: c.email,
        name: c.label,
        group,
        membersLeftOut,
      });
      continue;
    }
    const before: Partial<GroupFields> = {};
    const after: Partial<GroupFields> = {};
    for (const k of ['name', 'kind', 'email'] as const) {
      if (target[k] !== wanted[k]) {
        (before as Record<string, unknown>)[k] = target[k];
        (after as Record<string, unknown>)[k] = wanted[k];
      }
    }
    const currentAliases = [...target.aliases].sort();
    if (!sameList(currentAliases, wanted.aliases)) {
      before.aliases = currentAliases;
      after.aliases = wanted.aliases;
    }
    if (target.source !== 'entra') {
      // Only reachable for a corrupt row (external id on a hand-made group): say it is taken over.
      (before as Record<string, unknown>).source = target.source;
      (after as Record<string, unknown>).source = 'entra';
    }
    const currentMembers = target.members.map(currentMember);
    const currentKeys = new Set(currentMembers.map(memberKey));
    const membersAdded = members.filter((m) => !currentKeys.has(memberKey(m)));
    const membersRemoved = sortMembers(currentMembers.filter((m) => !keys.has(memberKey(m))));
    if (membersAdded.length > 0 || membersRemoved.length > 0) {
      before.members = sortMembers(currentMembers);
      after.members = members;
    }
    const fields = Object.keys(after);
    if (fields.length === 0) {
      unchanged++;
      continue;
    }
    if (!policy.how.updateGroups) {
      switchedOff.groupsToUpdate++;
      continue;
    }
    if (target.exempt) {
      skipped.push(
        skip(
          'exempt',
          `${target.name} is exempt from sync: it would have been updated (${fields.join(', ')}).`,
          'group',
          c.externalId,
          target.email,
          target.name,
        ),
      );
      continue;
    }
    groupsToUpdate.push({
      kind: 'update_group',
      id: changeId('update_group', c.externalId, [target.id, before, after]),
      externalId: c.externalId,
      address: c.email,
      name: c.label,
      groupId: target.id,
      before,
      after,
      membersAdded,
      membersRemoved,
      membersLeftOut,
    });
  }

  skipped.sort(
    (a, b) =>
      cmp(a.objectType, b.objectType) ||
      cmp(a.reason, b.reason) ||
      cmp(a.address ?? '', b.address ?? '') ||
      cmp(a.externalId ?? '', b.externalId ?? '') ||
      cmp(a.message, b.message),
  );
  return {
    usersToAdd: sortChanges(usersToAdd),
    usersToUpdate: sortChanges(usersToUpdate),
    usersToRemove: sortChanges(usersToRemove),
    groupsToAdd: sortChanges(groupsToAdd),
    groupsToUpdate: sortChanges(groupsToUpdate),
    groupsToRemove: sortChanges(groupsToRemove),
    skipped,
    skippedByReason: skippedByReason(skipped),
    expectedLeftOut: { initialDomainAliases },
    unchanged,
    switchedOff,
    blockedSignIn,
    seats: {
      before: current.users.filter(billable).length,
      after: billableAfter(current.users, [...usersToAdd, ...usersToUpdate, ...usersToRemove]),
    },
  };
}

const billable = (u: Pick<User, 'status' | 'role' | 'mailbox'>) => recipientFacts(u).billable;

/** Billable users once `changes` (of a plan, or the part of it applied) are applied to `users`. */
export function billableAfter(users: readonly User[], changes: readonly Change[]): number {
  const updated = new Map<string, Partial<UserFields>>();
  const gone = new Set<string>();
  let after = 0;
  for (const c of changes) {
    if (c.kind === 'add_user' && billable(c.user)) after++;
    else if (c.kind === 'update_user') updated.set(c.userId, c.after);
    else if (c.kind === 'remove_user') gone.add(c.userId);
  }
  for (const u of users) if (!gone.has(u.id) && billable({ ...u, ...updated.get(u.id) })) after++;
  return after;
}
