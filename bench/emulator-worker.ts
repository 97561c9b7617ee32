/**
 * The emulator in its own process (so the sync's peak RSS is the sync's alone), driven over IPC:
 * request counters, fault rate, seeded 1 % mutations, and the protocol minimum of the next read.
 */
import { Rng } from '../src/emulator/generate.js';
import { type Emulator, type GraphObject, startEmulator } from '../src/emulator/index.js';
import { hasMailbox as exchangeHasMailbox } from '../src/emulator/mailbox.js';
import { serve } from './ipc.js';
import { purposeMinimum, roundMinimum } from './minimum.js';

/** Workload of one emulator. */
export interface EmulatorParams {
  users: number;
  groups: number;
  seed: number;
  latencyMs: number;
  /** Retry-After seconds of injected 429/503 faults. */
  faultRetryAfter: number;
}

/** What the bench needs to connect an organization to the emulator. */
export interface EmulatorHandle {
  authorityHost: string;
  graphUrl: string;
  caPem: string;
  tenantId: string;
  domains: string[];
  clientId: string;
  clientSecret: string;
  users: number;
  groups: number;
  memberships: number;
  /** Requests of a full read (initial delta rounds of users and groups with members, mailbox purposes). */
  fullMinimum: number;
  /** Mailbox purposes a full read needs: users with a mailbox whose sign-in is blocked. */
  purposes: number;
  /** Requests of a delta read that finds nothing: a page per collection, and the purposes still unknown. */
  noChangeMinimum: number;
}

/** Graph requests the emulator served since the last reset (token requests apart). */
export interface EmulatorCounts {
  /** HTTP requests to Graph (a `$batch` is one). */
  graph: number;
  /** Requests inside `$batch` requests. */
  batchItems: number;
  token: number;
  faults: number;
  throttled: number;
}

/** What a mutation did, and the minimum requests of the delta round that reads it. */
export interface MutationSummary {
  users: { updated: number; added: number; deleted: number };
  groups: { updated: number; added: number; deleted: number };
  memberships: { added: number; removed: number };
  deltaMinimum: number;
}

let emu: Emulator | undefined;
const params = JSON.parse(process.env.BENCH_EMULATOR ?? '{}') as EmulatorParams;

function running(): Emulator {
  if (!emu) throw new Error('emulator not started');
  return emu;
}

const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
/** What decides whether a purpose must be read again: sign-in, mail and primary addresses. */
const purposeKey = (u: GraphObject) =>
  [
    u.accountEnabled === false,
    String(u.mail ?? '').toLowerCase(),
    ...strs(u.proxyAddresses)
      .filter((p) => p.startsWith('SMTP:'))
      .map((p) => p.toLowerCase()),
  ].join('|');
/** Users whose purpose a read needs: a mailbox (mail or a primary address) and sign-in blocked. */
const needsPurpose = (u: GraphObject) =>
  u.accountEnabled === false &&
  ((typeof u.mail === 'string' && u.mail.trim() !== '') ||
    strs(u.proxyAddresses).some((p) => p.startsWith('SMTP:')));
/** Of those, the ones Exchange has no mailbox for: unknown after every read, so read again by every delta. */
const unreadable = (e: Emulator) =>
  e.tenant
    .listUsers()
    .filter((u) => needsPurpose(u) && !exchangeHasMailbox(u))
    .map((u) => u.id);

function fullMinimum(e: Emulator): {
  users: number;
  groups: number;
  memberships: number;
  purposes: number;
  minimum: number;
  noChangeMinimum: number;
} {
  const all = e.tenant.listUsers();
  const users = all.length;
  const groups = e.tenant.listGroups();
  const entries = groups.map((g) => g.members.length);
  const purposes = all.filter(needsPurpose).length;
  return {
    users,
    groups: groups.length,
    memberships: entries.reduce((a, b) => a + b, 0),
    purposes,
    minimum: roundMinimum(users, entries) + purposeMinimum(purposes),
    noChangeMinimum: roundMinimum(0, []) + purposeMinimum(unreadable(e).length),
  };
}

/**
 * Changes `fraction` of users, of groups and of memberships, deterministically from `seed`:
 * of the users and groups 60 % are updated (renamed, or a user given an alias), 20 % added,
 * 20 % deleted; memberships are half added, half removed. Records, per group and in the order
 * the emulator logs them, the net member changes, so the delta round's minimum can be computed.
 */
function mutate(e: Emulator, fraction: number, seed: number): MutationSummary {
  const rng = new Rng(seed);
  const t = e.tenant;
  const users = t.listUsers();
  const keysBefore = new Map(users.map((u) => [u.id, purposeKey(u)]));
  const groups = t.listGroups();
  const primary = e.info.tenantDomains[0]!;
  const changedUsers = new Set<string>();
  // group id → member id → last op; Map order = order of first change, as the emulator's log.
  const changedGroups = new Map<string, Map<string, 'add' | 'remove'>>();
  const touch = (gid: string) => {
    let m = changedGroups.get(gid);
    if (!m) {
      m = new Map();
      changedGroups.set(gid, m);
    }
    return m;
  };
  const memberSets = new Map(groups.map((g) => [g.id, new Set(g.members)]));
  const gone = new Set<string>();
  const pickUser = () => {
    for (;;) {
      const u = users[rng.int(users.length)]!;
      if (!gone.has(u.id) && !changedUsers.has(u.id)) return u;
    }
  };
  const pickGroup = () => {
    for (;;) {
      const g = groups[rng.int(groups.length)]!;
      if (!gone.has(g.id) && !changedGroups.has(g.id)) return g;
    }
  };
  const summary: MutationSummary = {
    users: { updated: 0, added: 0, deleted: 0 },
    groups: { updated: 0, added: 0, deleted: 0 },
    memberships: { added: 0, removed: 0 },
    deltaMinimum: 0,
  };

  const nUsers = Math.max(1, Math.round(users.length * fraction));
  const nUpdate = Math.round(nUsers * 0.6);
  const nAdd = Math.round(nUsers * 0.2);
  const nDelete = nUsers - nUpdate - nAdd;
  for (let k = 0; k < nUpdate; k++) {
    const u = pickUser();
    if (k % 2 === 0) {
      const surname = `${(u.surname as string | null) ?? 'X'}-Bench`;
      t.updateUser(u.id, {
        surname,
        displayName: `${(u.givenName as string | null) ?? ''} ${surname}`.trim(),
      });
    } else {
      const proxies = [...((u.proxyAddresses as string[] | null) ?? [])];
      proxies.push(`smtp:bench-alias-${seed}-${k}@${primary}`);
      t.updateUser(u.id, { proxyAddresses: proxies });
    }
    changedUsers.add(u.id);
    summary.users.updated++;
  }
  const added: string[] = [];
  for (let k = 0; k < nAdd; k++) {
    const local = `bench.new-${seed}-${k}`;
    const mail = `${local}@${primary}`;
    const u = t.addUser({
      id: rng.guid(),
      displayName: `Bench New ${k}`,
      givenName: 'Bench',
      surname: `New ${k}`,
      userPrincipalName: mail,
      mail,
      mailNickname: local,
      proxyAddresses: [`SMTP:${mail}`],
      accountEnabled: true,
      userType: 'Member',
    });
    changedUsers.add(u.id);
    added.push(u.id);
    summary.users.added++;
  }

  const nGroups = Math.max(1, Math.round(groups.length * fraction));
  const gUpdate = Math.round(nGroups * 0.6);
  const gAdd = Math.round(nGroups * 0.2);
  const gDelete = nGroups - gUpdate - gAdd;
  for (let k = 0; k < gUpdate; k++) {
    const g = pickGroup();
    t.updateGroup(g.id, { displayName: `${g.displayName as string} (renamed)` });
    touch(g.id);
    summary.groups.updated++;
  }
  for (let k = 0; k < gAdd; k++) {
    const nick = `bench-group-${seed}-${k}`;
    const mail = `${nick}@${primary}`;
    const members = [...new Set([added[k % Math.max(1, added.length)], pickUser().id, pickUser().id])].filter(
      (m): m is string => m !== undefined,
    );
    const g = t.addGroup({
      id: rng.guid(),
      displayName: `Bench Group ${k}`,
      mail,
      mailEnabled: true,
      securityEnabled: false,
      mailNickname: nick,
      proxyAddresses: [`SMTP:${mail}`],
      members,
    });
    const m = touch(g.id);
    for (const id of members) m.set(id, 'add');
    memberSets.set(g.id, new Set(members));
    summary.groups.added++;
  }

  const memberships = groups.reduce((n, g) => n + g.members.length, 0);
  const nMembers = Math.max(2, Math.round(memberships * fraction));
  for (let k = 0; k < nMembers; k++) {
    const adding = k % 2 === 0;
    for (;;) {
      const g = groups[rng.int(groups.length)]!;
      if (gone.has(g.id)) continue;
      const set = memberSets.get(g.id)!;
      if (adding) {
        const u = pickUser();
        if (set.has(u.id)) continue;
        t.addMember(g.id, u.id);
        set.add(u.id);
        touch(g.id).set(u.id, 'add');
        summary.memberships.added++;
      } else {
        const userMembers = [...set].filter((id) => !memberSets.has(id));
        if (userMembers.length === 0) continue;
        const id = userMembers[rng.int(userMembers.length)]!;
        t.removeMember(g.id, id);
        set.delete(id);
        touch(g.id).set(id, 'remove');
        summary.memberships.removed++;
      }
      break;
    }
  }

  // Deletions last: deleting an object removes it from every group that has it.
  const removeFromParents = (id: string) => {
    for (const [gid, set] of memberSets) {
      if (gone.has(gid) || !set.has(id)) continue;
      set.delete(id);
      touch(gid).set(id, 'remove');
    }
  };
  for (let k = 0; k < nDelete; k++) {
    const u = pickUser();
    t.deleteUser(u.id);
    gone.add(u.id);
    changedUsers.add(u.id);
    removeFromParents(u.id);
    summary.users.deleted++;
  }
  for (let k = 0; k < gDelete; k++) {
    const g = pickGroup();
    t.deleteGroup(g.id);
    removeFromParents(g.id);
    gone.add(g.id);
    touch(g.id);
    summary.groups.deleted++;
  }
  const entries = [...changedGroups].map(([gid, m]) => (gone.has(gid) ? 0 : m.size));
  // Purposes read again: those still unknown, and changed users whose sign-in or addresses moved.
  const reread = new Set(unreadable(e));
  for (const id of changedUsers) {
    const u = t.getUser(id);
    if (u && needsPurpose(u) && keysBefore.get(id) !== purposeKey(u)) reread.add(id);
  }
  summary.deltaMinimum = roundMinimum(changedUsers.size, entries) + purposeMinimum(reread.size);
  return summary;
}

serve(
  {
    start: async (): Promise<EmulatorHandle> => {
      emu = await startEmulator({
        users: params.users,
        groups: params.groups,
        seed: params.seed,
        latencyMs: params.latencyMs,
        faultRetryAfter: params.faultRetryAfter,
      });
      const app = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
      const full = fullMinimum(emu);
      return {
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
        tenantId: emu.info.tenantId,
        domains: emu.info.tenantDomains,
        clientId: app.clientId,
        clientSecret: app.clientSecret,
        users: full.users,
        groups: full.groups,
        memberships: full.memberships,
        fullMinimum: full.minimum,
        purposes: full.purposes,
        noChangeMinimum: full.noChangeMinimum,
      };
    },
    resetStats: () => running().resetStats(),
    counts: (): EmulatorCounts => {
      const s = running().stats();
      let graph = 0;
      let batchItems = 0;
      for (const [path, n] of Object.entries(s.byPath)) {
        // The emulator also counts each request inside a $batch, by its own path.
        if (path.endsWith(' ($batch)')) batchItems += n;
        else if (path.includes(' /v1.0/')) graph += n;
      }
      return {
        graph,
        batchItems,
        token: s.requests - graph - batchItems,
        faults: s.faults,
        throttled: s.throttled,
      };
    },
    setFaultRate: (p: { rate: number }) => running().setFaultRate(p.rate),
    fullMinimum: () => fullMinimum(running()).minimum,
    mutate: (p: { fraction: number; seed: number }) => mutate(running(), p.fraction, p.seed),
  },
  async () => {
    await emu?.close();
  },
);
