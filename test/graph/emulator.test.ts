/**
 * The connector against the Entra ID + Graph emulator over HTTPS (medium tier: real MSAL, real
 * TLS with the emulator's CA, real paging and delta tokens).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxKind } from '../../src/directory/recipients.js';
import { type Emulator, type GraphObject, startEmulator } from '../../src/emulator/index.js';
import {
  type DeltaCursor,
  type GraphConnection,
  GraphConnector,
  type GraphError,
  mirrorOf,
  type ReadResult,
} from '../../src/graph/index.js';
import {
  applyDelta,
  emptyDelta,
  type SourceGroup,
  type SourceSnapshot,
  type SourceUser,
} from '../../src/sync/source.js';

let emu: Emulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, users: 200, groups: 30, seed: 1 });
});
afterAll(() => emu?.close());

/** The connection of one emulator app (apps[0] is granted the sync's permissions). */
function connection(extra: Partial<GraphConnection> = {}, app = emu.info.apps[0]!): GraphConnection {
  return {
    tenant: emu.info.tenantDomains[0]!,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    cloud: 'global',
    authorityHost: emu.info.authorityHost,
    graphUrl: emu.info.graphBaseUrl,
    caPem: emu.info.caPem,
    ...extra,
  };
}

const str = (v: unknown) => (typeof v === 'string' ? v : null);
const strs = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);

/**
 * The purpose a read with MailboxSettings.Read finds: read for users with a mailbox (mail or a
 * primary address) and sign-in blocked; Exchange has one for members with an SMTP address
 * (docs/emulator.md), 'user' unless the tenant says otherwise; everyone else null.
 */
function expectedMailbox(u: GraphObject): MailboxKind | null {
  const needed =
    u.accountEnabled === false &&
    (!!str(u.mail)?.trim() || strs(u.proxyAddresses).some((p) => p.startsWith('SMTP:')));
  const exchange =
    u.userType !== 'Guest' && strs(u.proxyAddresses).some((p) => p.toLowerCase().startsWith('smtp:'));
  if (!needed || !exchange) return null;
  return ((u.mailboxSettings as { userPurpose?: MailboxKind } | undefined)?.userPurpose ??
    'user') as MailboxKind;
}

/** What a full read must return: the emulator's tenant in SourceSnapshot form. */
function expectedSnapshot(): SourceSnapshot {
  const users = emu.tenant.listUsers();
  const groups = emu.tenant.listGroups();
  const userIds = new Set(users.map((u) => u.id));
  const groupIds = new Set(groups.map((g) => g.id));
  const byId = (a: { externalId: string }, b: { externalId: string }) =>
    a.externalId < b.externalId ? -1 : 1;
  return {
    users: users
      .map(
        (u): SourceUser => ({
          externalId: u.id,
          userPrincipalName: String(u.userPrincipalName),
          userType: str(u.userType),
          accountEnabled: u.accountEnabled === true,
          mail: str(u.mail),
          proxyAddresses: strs(u.proxyAddresses),
          givenName: str(u.givenName),
          surname: str(u.surname),
          displayName: str(u.displayName),
          mailbox: expectedMailbox(u),
        }),
      )
      .sort(byId),
    groups: groups
      .map(
        (g): SourceGroup => ({
          externalId: g.id,
          displayName: String(g.displayName),
          mail: str(g.mail),
          mailEnabled: g.mailEnabled === true,
          securityEnabled: g.securityEnabled === true,
          groupTypes: strs(g.groupTypes),
          proxyAddresses: strs(g.proxyAddresses),
          memberUserIds: g.members.filter((m) => userIds.has(m)).sort(),
          memberGroupIds: g.members.filter((m) => groupIds.has(m)).sort(),
        }),
      )
      .sort(byId),
  };
}

const noWait = { sleep: async () => undefined };

describe('GraphConnector against the emulator', () => {
  let first: ReadResult;

  it('a full read equals the tenant (users, groups, direct members), with one token', async () => {
    const c = new GraphConnector(connection(), noWait);
    first = await c.readFull();
    await c.close();
    expect(first.mode).toBe('full');
    expect(first.snapshot).toEqual(expectedSnapshot());
    expect(first.snapshot.users.length).toBeGreaterThanOrEqual(200);
    expect(first.snapshot.groups.some((g) => g.memberGroupIds.length > 0)).toBe(true);
    expect(first.stats.tokenRequests).toBe(1);
    expect(first.stats.retries).toBe(0);
    expect(first.snapshot.users.some((u) => u.mailbox === 'shared')).toBe(true);
    // The pages, and the mailbox purposes' $batch requests.
    expect(first.stats.requests).toBe(first.stats.pages + first.mailboxes.requests);
    expect(first.mailboxes.requests).toBe(Math.ceil(first.mailboxes.needed / 20));
  });

  it('a delta read after mutations equals a fresh full read', async () => {
    const users = emu.tenant.listUsers();
    const groups = emu.tenant.listGroups();
    const [u0, u1, u2] = users;
    const [g0, g1, g2] = groups.filter((g) => !strs(g.groupTypes).includes('Unified'));
    const domain = emu.info.tenantDomains[0]!;
    const added = emu.tenant.addUser({
      displayName: 'New Person',
      userPrincipalName: `new.person@${domain}`,
      mail: `new.person@${domain}`,
      mailNickname: 'new.person',
      accountEnabled: true,
      userType: 'Member',
      proxyAddresses: [`SMTP:new.person@${domain}`],
    });
    emu.tenant.updateUser(u0!.id, { displayName: 'Renamed User', surname: null });
    emu.tenant.updateUser(u1!.id, { accountEnabled: false });
    emu.tenant.deleteUser(u2!.id);
    emu.tenant.updateGroup(g0!.id, { displayName: 'Renamed Group' });
    emu.tenant.addMember(g0!.id, added.id);
    const someMember = g1!.members[0];
    if (someMember) emu.tenant.removeMember(g1!.id, someMember);
    emu.tenant.deleteGroup(g2!.id, { permanent: true });
    // A nested group added, an alias added, a user deleted for good, and a soft-deleted one restored.
    emu.tenant.addMember(g1!.id, g0!.id);
    const [u3, u4, u5] = users.slice(3);
    emu.tenant.updateUser(u3!.id, {
      proxyAddresses: [...strs(u3!.proxyAddresses), `smtp:alias.${u3!.id}@${domain}`],
    });
    emu.tenant.deleteUser(u4!.id, { permanent: true });
    emu.tenant.deleteUser(u5!.id);
    emu.tenant.restoreUser(u5!.id);

    const c = new GraphConnector(connection(), noWait);
    const delta = await c.readChanges(first);
    const fresh = await c.readFull();
    await c.close();
    expect(delta.mode).toBe('delta');
    expect(delta.snapshot).toEqual(fresh.snapshot);
    expect(delta.snapshot).toEqual(expectedSnapshot());
    expect(delta.snapshot.users.find((u) => u.externalId === u0!.id)?.displayName).toBe('Renamed User');
    expect(delta.stats.pages).toBeLessThanOrEqual(fresh.stats.pages);
    first = fresh;
  });

  it('a delta read with no changes returns the same snapshot in one page per collection', async () => {
    const c = new GraphConnector(connection(), noWait);
    const delta = await c.readChanges(first);
    await c.close();
    expect(delta.snapshot).toEqual(first.snapshot);
    expect(delta.stats.pages).toBe(2);
  });

  it('asks the mirror only for the records a delta names; whole only for a cursor without the unread purposes’ ids', async () => {
    const asked: string[] = [];
    const onto = async (cursor: DeltaCursor, why: string) => {
      const base = mirrorOf(first.snapshot);
      const c = new GraphConnector(connection(), noWait);
      try {
        return await c.readChangesOnto({
          cursor,
          mirror: {
            users: async (ids) => {
              asked.push(`${why}: users ${ids.join(',')}`);
              return base.users(ids);
            },
            groups: async (ids) => {
              asked.push(`${why}: groups ${ids.join(',')}`);
              return base.groups(ids);
            },
            load: async () => {
              asked.push(`${why}: whole`);
              return base.load();
            },
          },
        });
      } finally {
        await c.close();
      }
    };
    // Nothing changed and no purpose left unread: the mirror is not asked at all.
    expect(first.cursor.unreadPurposeIds).toEqual([]);
    const quiet = await onto(first.cursor, 'quiet');
    expect(quiet.snapshot).toBeNull();
    expect(quiet.delta && emptyDelta(quiet.delta)).toBe(true);
    expect(quiet.changes).toBe(0);
    expect(asked).toEqual([]);
    // A cursor stored before it kept the ids of unread purposes: the users are looked at whole.
    const { unreadPurposes: _, unreadPurposeIds: __, ...older } = first.cursor;
    const again = await onto(older, 'older cursor');
    expect(again.delta && emptyDelta(again.delta)).toBe(true);
    expect(asked).toEqual(['older cursor: whole']);
    // A change: only the changed user is asked for, and the delta applied is the tenant now.
    const u = emu.tenant.listUsers()[0]!;
    emu.tenant.updateUser(u.id, { displayName: 'Asked By Id' });
    const changed = await onto(first.cursor, 'changed');
    expect(asked.slice(1)).toEqual([`changed: users ${u.id}`]);
    expect(changed.delta?.after.users.map((x) => x.displayName)).toEqual(['Asked By Id']);
    const next = applyDelta(first.snapshot, changed.delta!);
    expect(next).toEqual(expectedSnapshot());
    first = { ...changed, snapshot: next };
  });

  it.each(['syncStateNotFound', 'resync'] as const)(
    'an expired delta link (%s) → a full read with the identical result',
    async (mode) => {
      emu.tenant.expireDeltaTokens(mode);
      const c = new GraphConnector(connection(), noWait);
      const result = await c.readChanges(first);
      await c.close();
      expect(result.mode).toBe('full-after-expired-delta');
      expect(result.snapshot).toEqual(first.snapshot);
      first = result;
    },
  );

  it('10 % injected faults (429, 503, dropped connections) → the identical result', async () => {
    emu.resetStats();
    emu.setFaultRate(0.1);
    const expected = expectedSnapshot();
    let retries = 0;
    try {
      // Small tenants take few requests: repeat until a handful of faults have really been served.
      for (let run = 0; run < 30 && emu.stats().faults < 5; run++) {
        const c = new GraphConnector(connection(), { retry: { baseDelayMs: 20 } });
        const full = await c.readFull();
        const delta = await c.readChanges(full);
        await c.close();
        expect(full.snapshot).toEqual(expected);
        expect(delta.snapshot).toEqual(expected);
        retries += full.stats.retries + delta.stats.retries;
      }
    } finally {
      emu.setFaultRate(0);
    }
    expect(emu.stats().faults).toBeGreaterThanOrEqual(5);
    expect(retries).toBeGreaterThan(0);
  }, 120_000);

  it('reports progress per page', async () => {
    const seen: Array<{ phase: string; objectsRead: number }> = [];
    const c = new GraphConnector(connection(), { ...noWait, onProgress: (p) => seen.push(p) });
    const result = await c.readFull();
    await c.close();
    expect(seen.filter((p) => p.phase === 'users').at(-1)?.objectsRead).toBeGreaterThanOrEqual(
      result.snapshot.users.length,
    );
    expect(seen.some((p) => p.phase === 'groups')).toBe(true);
    expect(seen.filter((p) => p.phase !== 'mailboxes')).toHaveLength(result.stats.pages);
    // …and per $batch of mailbox purposes.
    const purposes = seen.filter((p) => p.phase === 'mailboxes');
    expect(purposes).toHaveLength(result.mailboxes.requests);
    expect(purposes.at(-1)?.objectsRead).toBe(result.mailboxes.read);
  });

  it('an app without admin consent → permission_denied naming both permissions and the consent link', async () => {
    const app = emu.info.apps.find((a) => a.roles.length === 0 && !a.secretExpired)!;
    const c = new GraphConnector(connection({}, app), noWait);
    const error = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    const report = await c.diagnose();
    await c.close();
    expect(error.code).toBe('permission_denied');
    expect(error.detail).toBe(
      '[Authorization_RequestDenied] Insufficient privileges to complete the operation.',
    );
    expect(error.hint).toContain('User.Read.All and GroupMember.Read.All');
    expect(error.hint).toContain('admin consent');
    expect(error.hint).toContain(
      `${emu.info.authorityHost}/${emu.info.tenantDomains[0]}/v2.0/adminconsent?client_id=${app.clientId}`,
    );
    expect(report.ok).toBe(false);
    expect(report.steps.find((s) => s.step === 'users')).toMatchObject({
      ok: false,
      code: 'permission_denied',
    });
  });

  it('an app with User.Read.All only → the hint names GroupMember.Read.All as missing', async () => {
    const app = emu.tenant.addApp({ roles: ['User.Read.All'], displayName: 'users only' });
    const c = new GraphConnector(connection({}, app), noWait);
    const report = await c.diagnose();
    await c.close();
    expect(report.roles).toEqual(['User.Read.All']);
    expect(report.steps.find((s) => s.step === 'users')).toMatchObject({ ok: true });
    const groups = report.steps.find((s) => s.step === 'groups');
    expect(groups).toMatchObject({ ok: false, code: 'permission_denied' });
    expect(groups?.hint).toContain('missing the Microsoft Graph application permission GroupMember.Read.All');
  });

  it('diagnose passes every step for the consented app and resolves the tenant ID', async () => {
    const c = new GraphConnector(connection(), noWait);
    const report = await c.diagnose();
    await c.close();
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['token', true],
      ['tenant', true],
      ['users', true],
      ['groups', true],
      ['members', true],
      ['mailboxes', true],
      ['domains', true],
    ]);
    expect(report.tenantId).toBe(emu.info.tenantId);
  });

  it.each([
    [
      'a wrong secret',
      'invalid_secret',
      'AADSTS7000215',
      () => connection({ clientSecret: 'wrong-secret-value' }),
    ],
    [
      'an expired secret',
      'expired_secret',
      'AADSTS7000222',
      () => connection({}, emu.info.apps.find((a) => a.secretExpired)!),
    ],
    [
      'an unknown client ID',
      'unknown_client',
      'AADSTS700016',
      () => connection({ clientId: '99999999-9999-4999-8999-999999999999' }),
    ],
    [
      'an unknown tenant',
      'unknown_tenant',
      'AADSTS90002',
      () => connection({ tenant: 'nosuchtenant.onmicrosoft.com' }),
    ],
    ['the tenant GUID', undefined, undefined, () => connection({ tenant: emu.info.tenantId })],
  ])('%s → %s', async (_name, code, aadsts, make) => {
    const conn = make();
    const c = new GraphConnector(conn, noWait);
    const report = await c.diagnose();
    await c.close();
    const token = report.steps[0]!;
    if (code === undefined) {
      expect(report.ok).toBe(true);
      return;
    }
    expect(token).toMatchObject({ step: 'token', ok: false, code });
    expect(token.message).toContain(aadsts);
    expect(JSON.stringify(report)).not.toContain(conn.clientSecret);
  });
});
