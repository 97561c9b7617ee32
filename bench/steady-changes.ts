/**
 * The changes of one hour in one emulated tenant, for `bench:scale`'s steady state: a share of
 * its users, memberships and groups changes, drawn from a seed so every run (and every worker
 * count) sees the same amount of work.
 */
import { Rng } from '../src/emulator/generate.js';
import type { Emulator, GraphObject } from '../src/emulator/index.js';

/** What one tenant's mutation did. */
export interface TenantChanges {
  usersUpdated: number;
  usersAdded: number;
  usersDeleted: number;
  groupsRenamed: number;
  membersAdded: number;
  membersRemoved: number;
}

/** Every change of a mutation, summed. */
export const changeCount = (c: TenantChanges): number =>
  c.usersUpdated + c.usersAdded + c.usersDeleted + c.groupsRenamed + c.membersAdded + c.membersRemoved;

/**
 * The share of organization `index` that changes each hour: exactly 0 with probability
 * `unchanged`, else uniform in (0, max]. Depends only on the seed and the index, so every round
 * of every worker count gives an organization the same share.
 */
export function hourlyShare(seed: number, index: number, unchanged: number, max: number): number {
  const rng = new Rng(seed * 1_000_003 + index);
  if (rng.next() < unchanged) return 0;
  return max * (1 - rng.next());
}

/**
 * Changes `share` of the tenant: of its users 60 % are updated (renamed, or given an alias), 20 %
 * added and 20 % deleted; the same share of memberships is half added, half removed; and of
 * groups renamed. Counts are rounded, so a small share of a small tenant can change nothing.
 * `seed` picks which objects (a new seed each round: new objects, the same amount).
 */
export function changeTenant(e: Emulator, share: number, seed: number): TenantChanges {
  const done: TenantChanges = {
    usersUpdated: 0,
    usersAdded: 0,
    usersDeleted: 0,
    groupsRenamed: 0,
    membersAdded: 0,
    membersRemoved: 0,
  };
  if (share === 0) return done;
  const rng = new Rng(seed);
  const t = e.tenant;
  const users = t.listUsers();
  const groups = t.listGroups();
  const primary = e.info.tenantDomains[0]!;
  const memberships = groups.reduce((n, g) => n + g.members.length, 0);

  // Each user is changed at most once, so the counts are the changes a delta brings.
  const picked = new Set<string>();
  const pickUser = (): GraphObject => {
    if (picked.size >= users.length)
      throw new Error(`share ${share} asks more changes than the tenant has users`);
    for (;;) {
      const u = users[rng.int(users.length)]!;
      if (!picked.has(u.id)) {
        picked.add(u.id);
        return u;
      }
    }
  };

  const nUsers = Math.min(users.length, Math.round(users.length * share));
  const nUpdate = Math.round(nUsers * 0.6);
  const nAdd = Math.round(nUsers * 0.2);
  for (let k = 0; k < nUpdate; k++) {
    const u = pickUser();
    if (k % 2 === 0) {
      const surname = `${(u.surname as string | null) ?? 'X'}-H${seed % 1000}`;
      t.updateUser(u.id, {
        surname,
        displayName: `${(u.givenName as string | null) ?? ''} ${surname}`.trim(),
      });
    } else {
      const proxies = [...((u.proxyAddresses as string[] | null) ?? [])];
      proxies.push(`smtp:hourly-${seed}-${k}@${primary}`);
      t.updateUser(u.id, { proxyAddresses: proxies });
    }
    done.usersUpdated++;
  }
  for (let k = 0; k < nAdd; k++) {
    const local = `hourly.new-${seed}-${k}`;
    const mail = `${local}@${primary}`;
    t.addUser({
      id: rng.guid(),
      displayName: `Hourly New ${k}`,
      givenName: 'Hourly',
      surname: `New ${k}`,
      userPrincipalName: mail,
      mail,
      mailNickname: local,
      proxyAddresses: [`SMTP:${mail}`],
      accountEnabled: true,
      userType: 'Member',
    });
    done.usersAdded++;
  }

  const nMembers = Math.round(memberships * share);
  for (let k = 0; k < nMembers && groups.length > 0; k++) {
    const g = groups[rng.int(groups.length)]!;
    const members = new Set(t.listMembers(g.id));
    if (k % 2 === 0) {
      const u = pickUser();
      if (members.has(u.id)) continue;
      t.addMember(g.id, u.id);
      done.membersAdded++;
    } else {
      const userMembers = [...members].filter((id) => t.getUser(id) && !picked.has(id));
      if (userMembers.length === 0) continue;
      const id = userMembers[rng.int(userMembers.length)]!;
      picked.add(id);
      t.removeMember(g.id, id);
      done.membersRemoved++;
    }
  }

  const nGroups = Math.round(groups.length * share);
  for (let k = 0; k < nGroups; k++) {
    const g = groups[rng.int(groups.length)]!;
    t.updateGroup(g.id, { displayName: `${g.displayName as string} (h${seed % 1000})` });
    done.groupsRenamed++;
  }

  // Deletions last, of users this round has not touched: a deleted user leaves its groups too.
  const nDelete = nUsers - nUpdate - nAdd;
  for (let k = 0; k < nDelete; k++) {
    t.deleteUser(pickUser().id);
    done.usersDeleted++;
  }
  return done;
}
