import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { GraphConnector } from '../../src/graph/index.js';
import { hasMailbox } from '../../src/graph/mailboxes.js';
import type { App } from '../../src/services/app.js';
import type { Preview } from '../../src/services/sync.js';
import { DirectoryRepository } from '../../src/store/directory-repository.js';
import { SourceRepository } from '../../src/store/source-repository.js';
import { parseHow } from '../../src/sync/policy.js';
import { allChanges } from '../../src/sync/select.js';
import type { SourceSnapshot, SourceUser } from '../../src/sync/source.js';
import { connectToEmulator, createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

/**
 * Focused planning (src/sync/focus.ts) against full planning, through the real SyncService, the
 * emulator and both databases: seeded random tenants, each synced once in full, then rounds of
 * random changes in Entra (users and groups added, changed, deleted; addresses moved between
 * objects and claimed twice; hand-made users taken over; members added and removed), each round
 * previewed both ways — the previews must be equal — and applied, some changes unticked.
 */

/** mulberry32: a failing case replays from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
  };
}
type Rng = ReturnType<typeof rng>;

/** The parts of a preview a plan decides (ids, times and read statistics aside). */
function planOf(p: Preview) {
  const { planId: _id, createdAt: _c, expiresAt: _e, policy: _p, read: _r, timings: _t, ...plan } = p;
  return plan;
}

type Rec = Record<string, unknown> & { id: string };

/**
 * A snapshot with the mailbox purposes only where a read decides them (sign-in blocked, a
 * mailbox): elsewhere a delta keeps a purpose read earlier that a full read does not read again.
 */
function decided(s: SourceSnapshot): SourceSnapshot {
  const read = (u: SourceUser) => !u.accountEnabled && hasMailbox(u);
  return { ...s, users: s.users.map((u) => (read(u) ? u : { ...u, mailbox: null })) };
}

/** One round of random changes in the emulated tenant; returns what it did (for failure messages). */
function mutate(r: Rng, emu: Emulator, round: number, domains: string[], handMade: string[]): string[] {
  const t = emu.tenant;
  const done: string[] = [];
  const users = () => t.listUsers() as Rec[];
  const groups = () => t.listGroups() as (Rec & { members: string[] })[];
  const proxies = (o: Rec) => [...((o.proxyAddresses as string[] | null) ?? [])];
  const fresh = (what: string) => `${what}-${round}-${r.int(1e6)}@${r.pick(domains)}`;
  for (let i = 0, n = 1 + r.int(4); i < n; i++) {
    const us = users();
    const gs = groups();
    const u = r.pick(us);
    const g = gs.length > 0 ? r.pick(gs) : undefined;
    switch (r.int(17)) {
      case 14:
        // Out of scope while groups still list it: a guest now.
        t.updateUser(u.id, { userType: 'Guest' });
        done.push(`guest ${u.id}`);
        break;
      case 15:
        // Out of scope: no address any more.
        t.updateUser(u.id, { mail: null, proxyAddresses: [] });
        done.push(`no address for ${u.id}`);
        break;
      case 16: {
        // Another's primary address as its own: a conflict (the user is kept as it is).
        const other = r.pick(us);
        const mail = other.mail as string | null;
        if (!mail || other.id === u.id) break;
        t.updateUser(u.id, { mail, proxyAddresses: [`SMTP:${mail}`] });
        done.push(`primary ${mail} for ${u.id}`);
        break;
      }
      case 0:
        t.updateUser(u.id, { surname: `S${round}-${i}`, displayName: `Renamed ${round}-${i}` });
        done.push(`rename user ${u.id}`);
        break;
      case 1:
        t.updateUser(u.id, { proxyAddresses: [...proxies(u), `smtp:${fresh('alias')}`] });
        done.push(`alias for ${u.id}`);
        break;
      case 2: {
        // An address moves: one object drops an alias, another takes it.
        const from = r.pick(us.filter((o) => proxies(o).some((p) => p.startsWith('smtp:'))).concat(u));
        const alias = proxies(from).find((p) => p.startsWith('smtp:'));
        const to = r.pick(us);
        if (!alias || to.id === from.id) break;
        t.updateUser(from.id, { proxyAddresses: proxies(from).filter((p) => p !== alias) });
        t.updateUser(to.id, { proxyAddresses: [...proxies(to), alias] });
        done.push(`move ${alias} ${from.id} → ${to.id}`);
        break;
      }
      case 3: {
        // A second claim on an address someone holds (a conflict), primary or alias.
        const other = r.pick(us);
        const mail = other.mail as string | null;
        if (!mail || other.id === u.id) break;
        t.updateUser(u.id, { proxyAddresses: [...proxies(u), `smtp:${mail}`] });
        done.push(`claim ${mail} by ${u.id}`);
        break;
      }
      case 4: {
        const local = `new-${round}-${i}-${r.int(1e6)}`;
        // Sometimes the address of a hand-made user (taken over) or of another user (a conflict).
        const mail = r.chance(0.2)
          ? r.pick(handMade)
          : r.chance(0.1)
            ? ((r.pick(us).mail as string | null) ?? `${local}@${domains[0]}`)
            : `${local}@${r.pick(domains)}`;
        const guest = r.chance(0.1);
        const added = t.addUser({
          displayName: `New ${local}`,
          givenName: 'New',
          surname: local,
          userPrincipalName: guest ? `${local}_x.example#EXT#@${domains[0]}` : `${local}@${domains[0]}`,
          mail,
          proxyAddresses: [`SMTP:${mail}`],
          accountEnabled: r.chance(0.9),
          userType: guest ? 'Guest' : 'Member',
        });
        if (g && r.chance(0.5)) t.addMember(g.id, added.id as string);
        done.push(`add user ${added.id} ${mail}`);
        break;
      }
      case 5:
        if (us.length < 10) break;
        t.deleteUser(u.id, { permanent: r.chance(0.3) });
        done.push(`delete user ${u.id}`);
        break;
      case 6:
        t.updateUser(u.id, { accountEnabled: !(u.accountEnabled as boolean) });
        done.push(`toggle sign-in of ${u.id}`);
        break;
      case 7:
        if (!g) break;
        t.updateGroup(g.id, { displayName: `Group ${round}-${i}` });
        done.push(`rename group ${g.id}`);
        break;
      case 8: {
        const mail = r.chance(0.2) ? ((r.pick(us).mail as string | null) ?? fresh('g')) : fresh('g');
        const members = us.filter(() => r.chance(0.15)).map((o) => o.id);
        if (gs.length > 0 && r.chance(0.4)) members.push(r.pick(gs).id);
        const added = t.addGroup({
          displayName: `Added ${round}-${i}`,
          mail,
          mailEnabled: true,
          securityEnabled: r.chance(0.3),
          mailNickname: `added-${round}-${i}`,
          proxyAddresses: [`SMTP:${mail}`],
          members,
        });
        done.push(`add group ${added.id} ${mail}`);
        break;
      }
      case 9:
        if (!g || gs.length < 4) break;
        t.deleteGroup(g.id, { permanent: r.chance(0.3) });
        done.push(`delete group ${g.id}`);
        break;
      case 10:
      case 11:
        if (!g) break;
        t.addMember(g.id, u.id);
        done.push(`add member ${u.id} to ${g.id}`);
        break;
      case 12:
        if (!g || g.members.length === 0) break;
        t.removeMember(g.id, r.pick(g.members));
        done.push(`remove a member of ${g.id}`);
        break;
      case 13: {
        // Nesting: a group in another.
        const h = gs.length > 1 ? r.pick(gs) : undefined;
        if (!g || !h || g.id === h.id) break;
        try {
          t.addMember(g.id, h.id);
          done.push(`nest ${h.id} in ${g.id}`);
        } catch {
          // Microsoft 365 groups hold no groups.
        }
        break;
      }
    }
  }
  if (done.length === 0) {
    const u = r.pick(users());
    t.updateUser(u.id, { displayName: `Touched ${round}` });
    done.push(`rename user ${u.id}`);
  }
  return done;
}

describe.each(DATABASES)('focused planning on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  const emulators: Emulator[] = [];

  beforeAll(async () => {
    ({ app, close } = await createTestApp(kind));
  });
  afterAll(async () => {
    await close();
    for (const e of emulators) await e.close();
  });

  // How-switches in turn: all on, removals off, group updates off, user updates off.
  const POLICIES = [
    'all',
    'add-users,update-users,add-groups,update-groups',
    'add-users,update-users,add-groups,remove-users',
    'add-users,add-groups,update-groups,remove-users,remove-groups',
  ];
  // FOCUSED_PLAN_SEEDS / FOCUSED_PLAN_ROUNDS widen the sweep for a longer soak.
  const SEEDS = Number(process.env.FOCUSED_PLAN_SEEDS ?? 4);
  const cases = Array.from({ length: SEEDS }, (_, i): [number, string] => [
    i + 1,
    POLICIES[i % POLICIES.length]!,
  ]);
  const ROUNDS = Number(process.env.FOCUSED_PLAN_ROUNDS ?? 7);

  /** An organization connected to a new emulated tenant of its own. */
  async function connected(seed: number): Promise<{ emu: Emulator; orgId: string; domains: string[] }> {
    const emu = await startEmulator({ users: 40, groups: 8, seed: 100 + seed, domainPrefix: `focus${seed}` });
    emulators.push(emu);
    const domains = emu.info.tenantDomains.slice(0, 2);
    const orgId = (await app.orgs.create({ name: `Focus ${seed}`, domains }, 'test')).id;
    await connectToEmulator(app, orgId, emu, domains[0]!);
    return { emu, orgId, domains };
  }

  it('a sync never loads the whole mirror: a change asks it for the changed records by id', async () => {
    const { emu, orgId } = await connected(50);
    const run = async () => (await app.sync(orgId)).execute({ trigger: 'manual' }, 'test');
    expect((await run()).status).toBe('succeeded');
    const load = vi.spyOn(SourceRepository.prototype, 'load');
    const users = vi.spyOn(SourceRepository.prototype, 'users');
    try {
      const quiet = await run();
      expect(quiet.status).toBe('succeeded');
      expect(users).not.toHaveBeenCalled();
      const u = emu.tenant.listUsers().find((x) => x.accountEnabled !== false)!;
      emu.tenant.updateUser(u.id, { displayName: 'Changed Once' });
      const changed = await run();
      expect(changed.applied.usersToUpdate).toBe(1);
      // The delta's one user, asked for by the merge; then the focus's records, by id.
      expect(users.mock.calls[0]).toEqual([[u.id]]);
      expect(users.mock.calls.flat().flat().length).toBeLessThan(10);
      expect(load).not.toHaveBeenCalled();
    } finally {
      load.mockRestore();
      users.mockRestore();
    }
  });

  it("an apply takes its objects' counts from the plan that judged them: the directory is read once", async () => {
    const { emu, orgId } = await connected(51);
    const how = parseHow('all');
    const run = async () => (await app.sync(orgId)).execute({ trigger: 'manual', how }, 'test');
    expect((await run()).status).toBe('succeeded');
    const [gone, claimer, owner] = emu.tenant.listUsers().filter((x) => x.accountEnabled !== false && x.mail);
    // A removal and a conflict: both leave objects unsteady, and the basis counts them.
    emu.tenant.deleteUser(gone!.id);
    emu.tenant.updateUser(claimer!.id, { proxyAddresses: [`SMTP:${claimer!.mail}`, `smtp:${owner!.mail}`] });
    const loaded = vi.spyOn(DirectoryRepository.prototype, 'loadFocused');
    try {
      const changed = await run();
      expect(changed.applied.usersToRemove).toBe(1);
      expect(changed.skippedByReason.alias_conflict).toBeGreaterThan(0);
      expect(loaded).toHaveBeenCalledTimes(1);
    } finally {
      loaded.mockRestore();
    }
    // The basis it left is right: the next plan, focused, is the full one.
    emu.tenant.updateUser(owner!.id, { displayName: 'Owner Renamed' });
    const full = await (await app.sync(orgId)).preview({ how, fullPlan: true }, 'test');
    const focused = await (await app.sync(orgId)).preview({ how }, 'test');
    expect(planOf(focused)).toEqual(planOf(full));
    expect(focused.skippedByReason.alias_conflict).toBeGreaterThan(0);
  });

  it.each(cases)('equals the full plan, round after round (seed %i, how %s)', async (seed, words) => {
    const r = rng(seed * 7919);
    const { emu, orgId, domains } = await connected(seed);
    // Hand-made users: new Entra users with their address take them over.
    const dir = await app.directory(orgId);
    const handMade = [0, 1, 2].map((i) => `hand${seed}-${i}@${domains[0]}`);
    for (const email of handMade) await dir.addUser({ email }, 'test');
    const h = parseHow(words);
    const sync = () => app.sync(orgId);
    const mirror = new SourceRepository(app.store.db, app.store.dialect, orgId);
    const readAll = async () => {
      const connector = new GraphConnector(await app.entraSettings(orgId).connection());
      try {
        return (await connector.readFull()).snapshot;
      } finally {
        await connector.close();
      }
    };

    expect((await (await sync()).execute({ trigger: 'manual', how: h }, 'test')).status).toBe('succeeded');
    const focused = vi.spyOn(DirectoryRepository.prototype, 'loadFocused');
    let focusedRounds = 0;
    const history: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const did = mutate(r, emu, round, domains, handMade);
        history.push(`round ${round}: ${did.join('; ')}`);
        const calls = focused.mock.calls.length;
        const full = await (await sync()).preview({ how: h, fullPlan: true }, 'test');
        expect(focused.mock.calls.length, 'the full plan loads the whole directory').toBe(calls);
        const preview = await (await sync()).preview({ how: h }, 'test');
        if (focused.mock.calls.length > calls) focusedRounds++;
        expect(planOf(preview), `seed ${seed}:\n${history.join('\n')}`).toEqual(planOf(full));

        // Apply, now and then with changes unticked: through the stored preview or a fresh plan.
        const ids = allChanges(preview).map((c) => c.id);
        const excluded = r.chance(0.4) ? ids.filter(() => r.chance(0.3)) : [];
        const s = await sync();
        const stored = r.chance(0.5);
        const fullPlan = !stored && r.chance(0.3);
        history.push(
          `  applied ${stored ? 'the preview' : fullPlan ? 'a full plan' : 'a plan'}, ${excluded.length} of ${ids.length} unticked: ${excluded.join(', ')}`,
        );
        const result = stored
          ? await s.execute(
              { trigger: 'manual', how: h, planId: preview.planId, excludedChangeIds: excluded },
              'test',
            )
          : await s.execute({ trigger: 'manual', how: h, excludedChangeIds: excluded, fullPlan }, 'test');
        expect(result.status, `seed ${seed}, round ${round}`).toBe('succeeded');
        // The mirror, written as row changes, is the tenant as a full read sees it.
        expect(decided(await mirror.load()), `seed ${seed}, round ${round}: the mirror`).toEqual(
          decided(await readAll()),
        );
      }
    } finally {
      focused.mockRestore();
    }
    // Most rounds follow an apply of the same policy: those plan focused.
    expect(focusedRounds).toBeGreaterThanOrEqual(ROUNDS - 1);
  });
});
