import type { Group, User } from '../../src/directory/model.js';
import type { Plan, PlannedMember } from '../../src/sync/changes.js';
import type { CurrentDirectory } from '../../src/sync/plan.js';
import {
  defaultPolicy,
  type HowSwitches,
  type SyncPolicy,
  type WhatSwitches,
} from '../../src/sync/policy.js';
import { selectChanges } from '../../src/sync/select.js';
import type { SourceGroup, SourceSnapshot, SourceUser } from '../../src/sync/source.js';

/** Builders for plan() tests: small records with sensible defaults, overridden per case. */

export const DOMAINS = ['contoso.com', 'contoso.onmicrosoft.com'];
/** Added by an organization admin, not proven: its addresses are skipped. */
export const PENDING_DOMAIN = 'pending.contoso.com';
const T = '2024-01-01T00:00:00.000Z';

/** An Entra member user with a mailbox at contoso.com, named after `key`. */
export function srcUser(key: string, over: Partial<SourceUser> = {}): SourceUser {
  return {
    externalId: `ext-${key}`,
    userPrincipalName: `${key}@contoso.com`,
    userType: 'Member',
    accountEnabled: true,
    mail: `${key}@contoso.com`,
    proxyAddresses: [`SMTP:${key}@contoso.com`, `smtp:${key}@contoso.onmicrosoft.com`],
    givenName: key,
    surname: 'Test',
    displayName: `${key} Test`,
    mailbox: null,
    ...over,
  };
}

/** An Entra security group (not mail-enabled) with no members. */
export function srcGroup(key: string, over: Partial<SourceGroup> = {}): SourceGroup {
  return {
    externalId: `gext-${key}`,
    displayName: `Group ${key}`,
    mail: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    proxyAddresses: [],
    memberUserIds: [],
    memberGroupIds: [],
    ...over,
  };
}

/** A directory user as sync would have created it from srcUser(key). */
export function dirUser(key: string, over: Partial<User> = {}): User {
  return {
    id: `u-${key}`,
    orgId: 'org-1',
    email: `${key}@contoso.com`,
    aliases: [`${key}@contoso.onmicrosoft.com`],
    firstName: key,
    lastName: 'Test',
    displayName: `${key} Test`,
    role: 'end_user',
    status: 'active',
    mailbox: null,
    source: 'entra',
    externalId: `ext-${key}`,
    exempt: false,
    createdAt: T,
    updatedAt: T,
    ...over,
  };
}

/** A directory group as sync would have created it from srcGroup(key). */
export function dirGroup(key: string, over: Partial<Group> = {}): Group {
  return {
    id: `g-${key}`,
    orgId: 'org-1',
    name: `Group ${key}`,
    kind: 'security',
    email: null,
    aliases: [],
    source: 'entra',
    externalId: `gext-${key}`,
    exempt: false,
    members: [],
    createdAt: T,
    updatedAt: T,
    ...over,
  };
}

export function directory(users: User[] = [], groups: Group[] = []): CurrentDirectory {
  return { orgId: 'org-1', domains: [...DOMAINS], pendingDomains: [PENDING_DOMAIN], users, groups };
}

export function snapshot(users: SourceUser[] = [], groups: SourceGroup[] = []): SourceSnapshot {
  return { users, groups };
}

/** The default policy with some switches changed. */
export function policy(
  over: { what?: Partial<WhatSwitches>; how?: Partial<HowSwitches> } & Partial<
    Pick<SyncPolicy, 'defaultRole' | 'includeGuests' | 'blockedMailboxes'>
  > = {},
): SyncPolicy {
  const base = defaultPolicy();
  return {
    ...base,
    ...over,
    what: { ...base.what, ...over.what },
    how: { ...base.how, ...over.how },
  };
}

/** Every switch on, removals included. */
export const ALL_ON = policy({ how: { removeUsers: true, removeGroups: true } });

/**
 * Applies a plan to an in-memory directory in the order selectChanges gives, the way the store's
 * apply does: lets tests check that plan → apply → plan converges.
 */
let created = 0;

export function applyInMemory(dir: CurrentDirectory, plan: Plan, excluded: string[] = []): CurrentDirectory {
  const users = new Map(dir.users.map((u) => [u.id, structuredClone(u)]));
  const groups = new Map(dir.groups.map((g) => [g.id, structuredClone(g)]));
  const userIdOf = (ext: string) => [...users.values()].find((u) => u.externalId === ext)?.id;
  const groupIdOf = (ext: string) => [...groups.values()].find((g) => g.externalId === ext)?.id;
  // Numbered across calls, so that objects created by successive applies never share an id.
  let n = created;
  for (const step of selectChanges(plan, excluded).steps) {
    for (const c of step.changes) {
      switch (c.kind) {
        case 'add_group':
          if (step.step === 'create_groups') {
            const { members: _members, ...fields } = c.group;
            groups.set(`new-g${++n}`, { ...dirGroup('x'), ...fields, id: `new-g${n}`, members: [] });
          }
          break;
        case 'add_user':
          users.set(`new-u${++n}`, { ...dirUser('x'), ...c.user, id: `new-u${n}` });
          break;
        case 'update_user':
          Object.assign(users.get(c.userId)!, c.after);
          break;
        case 'update_group':
          if (step.step === 'update_groups') Object.assign(groups.get(c.groupId)!, c.after);
          break;
        case 'remove_group':
          groups.delete(c.groupId);
          break;
        case 'remove_user':
          users.delete(c.userId);
          break;
      }
      if (step.step === 'set_memberships' && (c.kind === 'add_group' || c.kind === 'update_group')) {
        const group = c.kind === 'add_group' ? groups.get(groupIdOf(c.externalId)!)! : groups.get(c.groupId)!;
        const resolve = (list: PlannedMember[]) =>
          list.flatMap((m) => {
            const id = m.id ?? (m.type === 'user' ? userIdOf(m.externalId!) : groupIdOf(m.externalId!));
            return id ? [{ type: m.type, id }] : [];
          });
        // As the store's writer does: a new group gets its list, an update adds and removes.
        const removed = new Set(
          resolve(c.kind === 'add_group' ? [] : c.membersRemoved).map((m) => `${m.type}:${m.id}`),
        );
        group.members = [
          ...group.members.filter((m) => !removed.has(`${m.type}:${m.id}`)),
          ...resolve(c.kind === 'add_group' ? c.group.members : c.membersAdded),
        ];
      }
    }
  }
  created = n;
  for (const g of groups.values()) {
    g.members = g.members.filter((m) => (m.type === 'user' ? users.has(m.id) : groups.has(m.id)));
  }
  return { ...dir, users: [...users.values()], groups: [...groups.values()] };
}

/** A plan with nothing to do (skipped entries aside). */
export function isEmptyPlan(p: Plan): boolean {
  return (
    p.usersToAdd.length +
      p.usersToUpdate.length +
      p.usersToRemove.length +
      p.groupsToAdd.length +
      p.groupsToUpdate.length +
      p.groupsToRemove.length ===
    0
  );
}
