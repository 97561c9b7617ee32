import type { User } from '../../directory/model.js';
import { entraStatus } from '../../directory/recipients.js';
import {
  type AddUserChange,
  changeId,
  type PlannedMember,
  type RemoveUserChange,
  type UpdateUserChange,
  type UserFields,
} from '../changes.js';
import { isGuest, readAddresses } from '../classify.js';
import type { SourceUser } from '../source.js';
import { type Candidate, validAddresses } from './addresses.js';
import { count, type OutOfScope, type PlanContext, skippedEntry } from './context.js';
import { clean, diffAliases, diffFields } from './fields.js';
import { type SourceView, unionKeys } from './view.js';

/** Users: which Entra users are in scope, and how each compares with its directory user. */

export type UserCandidate = Candidate<SourceUser>;

/** The source users sorted by the scope rules, by Entra id. */
export interface ScopedUsers {
  candidates: Map<string, UserCandidate>;
  outOfScope: Map<string, OutOfScope>;
}

export interface UserComparison {
  toAdd: AddUserChange[];
  toUpdate: UpdateUserChange[];
  toRemove: RemoveUserChange[];
  /** Entra user id → the user as a member, for every user that exists once the plan is applied. */
  refs: Map<string, PlannedMember>;
}

/** The fields compared one by one (aliases are compared as a set, after these). */
const COMPARED: readonly (keyof UserFields)[] = [
  'email',
  'firstName',
  'lastName',
  'displayName',
  'status',
  'mailbox',
  'source',
  'externalId',
];

/**
 * Applies the scope rules (guests, users without an address) to the source users of `keys`
 * (default: all) and validates the addresses of those in scope. Users are not read at all when
 * they are not synced (the source view is then empty).
 */
export function scopeUsers(
  ctx: PlanContext,
  source: SourceView,
  keys: Iterable<string> = source.users.keys(),
): ScopedUsers {
  const scoped: ScopedUsers = { candidates: new Map(), outOfScope: new Map() };
  for (const ext of keys) {
    const u = source.users.get(ext);
    if (!u) continue;
    const label = u.userPrincipalName || u.externalId;
    if (isGuest(u) && !ctx.policy.includeGuests) {
      scoped.outOfScope.set(ext, {
        reason: 'out_of_scope',
        message: `${label} is now a guest user in Entra, and guests are not synced.`,
        skipped: skippedEntry(
          'guest',
          `${label} is a guest user: guests are not synced.`,
          'user',
          ext,
          clean(u.mail),
          label,
        ),
      });
      continue;
    }
    const raw = readAddresses(u.proxyAddresses, u.mail);
    if (raw.primary === null) {
      scoped.outOfScope.set(ext, {
        reason: 'out_of_scope',
        message: `${label} has no email address in Entra any more.`,
        skipped: skippedEntry(
          'no_mailbox',
          `${label} has no email address (no SMTP proxy address and no mail): there is nothing to sync.`,
          'user',
          ext,
          null,
          label,
        ),
      });
      continue;
    }
    const a = validAddresses(ctx.domains, ctx.report, 'user', ext, label, raw);
    scoped.candidates.set(ext, {
      type: 'user',
      src: u,
      externalId: ext,
      label,
      email: a.email,
      aliases: a.aliases,
      blocked: a.blocked,
      target: ctx.directory.usersByExternalId.get(ext),
      linking: false,
    });
  }
  return scoped;
}

/** Every user key: Entra ids of source users read and of directory users linked to Entra. */
export function userKeys(ctx: PlanContext, scoped: ScopedUsers): Set<string> {
  return unionKeys(scoped.candidates, scoped.outOfScope, ctx.directory.usersByExternalId);
}

/**
 * Compares the users of `keys` (default: all): each in-scope candidate is added or updated, and
 * each synced directory user without one (gone from Entra, or out of scope) is removed. Candidates
 * must have their addresses settled (settleAddresses) first.
 */
export function compareUsers(
  ctx: PlanContext,
  scoped: ScopedUsers,
  keys: Iterable<string> = userKeys(ctx, scoped),
): UserComparison {
  const result: UserComparison = { toAdd: [], toUpdate: [], toRemove: [], refs: new Map() };
  for (const ext of keys) {
    const existing = ctx.directory.usersByExternalId.get(ext);
    const candidate = scoped.candidates.get(ext);
    if (candidate) {
      if (existing) result.refs.set(ext, userRef(ext, existing.id, existing.email));
      if (!candidate.blocked) compareCandidate(ctx, candidate, result);
      continue;
    }
    const removed =
      existing !== undefined && removeUser(ctx, ext, existing, scoped.outOfScope.get(ext), result);
    const out = scoped.outOfScope.get(ext);
    if (out?.skipped && !removed) ctx.report.skipped.push(out.skipped);
    if (existing && !removed) result.refs.set(ext, userRef(ext, existing.id, existing.email));
  }
  return result;
}

const userRef = (ext: string, id: string | null, email: string): PlannedMember => ({
  type: 'user',
  id,
  externalId: ext,
  label: email,
});

/**
 * A synced user with no candidate: removed, when removals are allowed and switched on and the
 * user is not exempt. Hand-made users, and every user while users are not synced, are left alone.
 * Returns true when a removal is planned.
 */
function removeUser(
  ctx: PlanContext,
  ext: string,
  u: User,
  out: OutOfScope | undefined,
  result: UserComparison,
): boolean {
  const { policy, report } = ctx;
  if (!policy.what.users || u.source !== 'entra') return false;
  const message = out?.message ?? `${u.email} no longer exists in Entra.`;
  if (!policy.how.removeUsers) {
    count(report, 'user', ext, 'switchedOff.usersToRemove');
    return false;
  }
  if (u.exempt) {
    report.skipped.push(
      skippedEntry(
        'exempt',
        `${u.email} is exempt from sync: it is not removed (${message})`,
        'user',
        ext,
        u.email,
      ),
    );
    return false;
  }
  result.toRemove.push({
    kind: 'remove_user',
    id: changeId('remove_user', ext, u.id),
    externalId: ext,
    address: u.email,
    name: u.displayName ?? u.email,
    reason: out?.reason ?? 'deleted',
    message,
    userId: u.id,
  });
  return true;
}

/** An unblocked candidate: added when new, updated when it differs, else counted unchanged. */
function compareCandidate(ctx: PlanContext, c: UserCandidate, result: UserComparison): void {
  const { policy, report } = ctx;
  const s = c.src;
  const email = c.email!;
  const target = c.target as User | undefined;
  // A purpose once known stays known while the source has none to say (it is read only for
  // mailboxes with sign-in blocked, and not at all without MailboxSettings.Read).
  const mailbox = s.mailbox ?? target?.mailbox ?? null;
  const decided = entraStatus(s.accountEnabled, mailbox, policy.blockedMailboxes);
  if (decided.decision !== 'enabled')
    count(report, 'user', c.externalId, `blockedSignIn.${decided.decision}`);
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
      count(report, 'user', c.externalId, 'switchedOff.usersToAdd');
      return;
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
    result.toAdd.push({
      kind: 'add_user',
      id: changeId('add_user', c.externalId, user),
      externalId: c.externalId,
      address: email,
      name,
      user,
    });
    result.refs.set(c.externalId, userRef(c.externalId, null, email));
    return;
  }
  const before: Partial<UserFields> = {};
  const after: Partial<UserFields> = {};
  diffFields(before, after, target, wanted, COMPARED);
  diffAliases(before, after, target.aliases, wanted.aliases);
  const fields = Object.keys(after);
  if (fields.length === 0) {
    count(report, 'user', c.externalId, 'unchanged');
    return;
  }
  if (!policy.how.updateUsers) {
    count(report, 'user', c.externalId, 'switchedOff.usersToUpdate');
    return;
  }
  if (target.exempt) {
    const would = c.linking ? 'linked to Entra' : `updated (${fields.join(', ')})`;
    report.skipped.push(
      skippedEntry(
        'exempt',
        `${target.email} is exempt from sync: it would have been ${would}.`,
        'user',
        c.externalId,
        target.email,
        name,
      ),
    );
    return;
  }
  result.toUpdate.push({
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
  result.refs.set(c.externalId, userRef(c.externalId, target.id, email));
}
