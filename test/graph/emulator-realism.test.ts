/**
 * The connector against behaviours of the real service that the emulator reproduces on purpose
 * (docs/emulator.md, "Realism"): each test makes the emulator misbehave the way Graph or the
 * identity platform does, then checks what a read still delivers.
 */
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { UserDelta } from '../../src/graph/delta.js';
import {
  type GraphConnection,
  GraphConnector,
  type GraphError,
  type ReadResult,
} from '../../src/graph/index.js';
import { userItemSchema } from '../../src/graph/schemas.js';
import type { SourceSnapshot, SourceUser } from '../../src/sync/source.js';

let emu: Emulator;

beforeAll(async () => {
  // Small delta pages, so that every collection is read through several nextLinks.
  emu = await startEmulator({ users: 120, groups: 16, seed: 21, throttle: false, deltaPageSize: 25 });
});
afterAll(() => emu?.close());

function connection(e: Emulator = emu): GraphConnection {
  const app = e.info.apps[0]!;
  return {
    tenant: e.info.tenantDomains[0]!,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    cloud: 'global',
    authorityHost: e.info.authorityHost,
    graphUrl: e.info.graphBaseUrl,
    caPem: e.info.caPem,
  };
}

const noWait = { sleep: async () => undefined };

async function read<T>(run: (c: GraphConnector) => Promise<T>, e: Emulator = emu): Promise<T> {
  const c = new GraphConnector(connection(e), noWait);
  try {
    return await run(c);
  } finally {
    await c.close();
  }
}

const sortedIds = (xs: Array<{ id: string }>) => xs.map((x) => x.id).sort();
const userIds = (s: SourceSnapshot) => s.users.map((u) => u.externalId).sort();

describe('GraphConnector copes with the real service (emulated)', () => {
  let baseline: ReadResult;

  beforeAll(async () => {
    baseline = await read((c) => c.readFull());
  });

  it('a Directory_ExpiredPageToken on a nextLink → the full read still returns every user and group', async () => {
    const before = emu.stats().faults;
    emu.failNext({ on: 'page', status: 400, code: 'Directory_ExpiredPageToken' });
    const result = await read((c) => c.readFull());
    expect(emu.stats().faults - before).toBe(1);
    expect(userIds(result.snapshot)).toEqual(sortedIds(emu.tenant.listUsers()));
    expect(result.snapshot).toEqual(baseline.snapshot);
  });

  it('a 504 Gateway Timeout (UnknownError) is retried and the read completes', async () => {
    emu.failNext({ on: 'graph', status: 504 });
    const result = await read((c) => c.readFull());
    expect(result.stats.retries).toBeGreaterThanOrEqual(1);
    expect(result.snapshot).toEqual(baseline.snapshot);
  });

  it.each([
    ['429 with Retry-After', { on: 'token', status: 429, retryAfter: 0.01 }],
    ['503 temporarily_unavailable', { on: 'token', status: 503 }],
  ] as const)('a token endpoint %s is retried: one token, the full read completes', async (_name, fault) => {
    emu.failNext(fault);
    const result = await read((c) => c.readFull());
    expect(result.stats.tokenRequests).toBe(2);
    expect(result.snapshot).toEqual(baseline.snapshot);
  });

  it("an expired delta link answered 'SyncStateNotFound' (capital S) → a full read, mode full-after-expired-delta", async () => {
    const first = await read((c) => c.readFull());
    emu.tenant.expireDeltaTokens('SyncStateNotFound');
    const result = await read((c) => c.readChanges(first));
    expect(result.mode).toBe('full-after-expired-delta');
    expect(result.snapshot).toEqual(first.snapshot);
  });

  it('service principals among members are not counted as user (or group) members', async () => {
    const sp = emu.tenant.addServicePrincipal({ displayName: 'Scanner', appDisplayName: 'Scanner' });
    const group = emu.tenant.listGroups().find((g) => !(g.groupTypes as string[]).includes('Unified'))!;
    emu.tenant.addMember(group.id, sp.id);
    const withSp = emu.tenant
      .listGroups()
      .filter((g) => g.members.some((m) => !emu.tenant.getUser(m) && !emu.tenant.getGroup(m)));
    expect(withSp.length).toBeGreaterThan(0);
    const full = await read((c) => c.readFull());
    const delta = await read((c) => c.readChanges(baseline));
    for (const result of [full, delta]) {
      const g = result.snapshot.groups.find((x) => x.externalId === group.id)!;
      expect(g.memberUserIds).not.toContain(sp.id);
      expect(g.memberGroupIds).not.toContain(sp.id);
      expect(g.memberUserIds).toEqual(group.members.filter((m) => emu.tenant.getUser(m)).sort());
    }
    baseline = full;
  });

  it('mail that differs from the primary SMTP address: the snapshot keeps both as Entra has them', async () => {
    const users = emu.tenant.listUsers();
    const primary = (p: unknown) => (p as string[]).find((a) => a.startsWith('SMTP:'))?.slice(5);
    const odd = users.filter(
      (u) => u.mail && primary(u.proxyAddresses) && u.mail !== primary(u.proxyAddresses),
    );
    expect(odd.length).toBeGreaterThan(0);
    for (const u of odd) {
      const got = baseline.snapshot.users.find((x) => x.externalId === u.id)!;
      expect(got.mail).toBe(u.mail);
      expect(got.proxyAddresses).toEqual(u.proxyAddresses);
      expect(primary(got.proxyAddresses)).toBe(primary(u.proxyAddresses));
    }
  });

  it('never-set properties omitted from delta read as null, and a later change to null is applied', async () => {
    const domain = emu.info.tenantDomains[0]!;
    const u = emu.tenant.addUser({
      displayName: 'Room 7',
      userPrincipalName: `room7@${domain}`,
      accountEnabled: false,
    });
    const first = await read((c) => c.readChanges(baseline));
    expect(first.snapshot.users.find((x) => x.externalId === u.id)).toMatchObject({
      givenName: null,
      surname: null,
      mail: null,
      proxyAddresses: [],
      displayName: 'Room 7',
    });
    emu.tenant.updateUser(u.id, { displayName: null });
    const second = await read((c) => c.readChanges(first));
    expect(second.snapshot.users.find((x) => x.externalId === u.id)?.displayName).toBeNull();
    baseline = second;
  });

  it("a 501 NotImplemented is reported as Graph's error at once, not retried", async () => {
    emu.failNext({ on: 'graph', status: 501, code: 'NotImplemented' });
    const before = emu.stats().requests;
    const c = new GraphConnector(connection(), noWait);
    const error = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error.code).toBe('graph_error');
    expect(error.detail).toContain('[NotImplemented]');
    expect(error.status).toBe(501);
    // Both collections start side by side; the failing one is not retried.
    expect(emu.stats().requests - before).toBeLessThanOrEqual(3);
  });

  it('a soft-deleted user disappears from the snapshot of a delta read', async () => {
    const victim = baseline.snapshot.users[0]!;
    emu.tenant.deleteUser(victim.externalId);
    const result = await read((c) => c.readChanges(baseline));
    expect(result.mode).toBe('delta');
    expect(userIds(result.snapshot)).not.toContain(victim.externalId);
    expect(userIds(result.snapshot)).toEqual(sortedIds(emu.tenant.listUsers()));
    baseline = result;
  });

  it('the delta merge applies a Prefer: return=minimal page (changed properties only) to the same picture', async () => {
    const [a, b] = baseline.snapshot.users.filter((u) => u.givenName);
    emu.tenant.updateUser(a!.externalId, { givenName: null, displayName: 'Minimal A' });
    emu.tenant.updateUser(b!.externalId, { accountEnabled: !b!.accountEnabled });
    // What the connector would get with the header, fetched by hand with the sync app's token.
    const agent = new Agent({ connect: { ca: emu.info.caPem } });
    const app = emu.info.apps[0]!;
    const tokenRes = await fetch(`${emu.info.authorityHost}/${emu.info.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      body: new URLSearchParams({
        client_id: app.clientId,
        client_secret: app.clientSecret,
        grant_type: 'client_credentials',
        scope: `${emu.info.graphBaseUrl}/.default`,
      }),
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const merged = new UserDelta(baseline.snapshot.users);
    for (let url: string | undefined = baseline.cursor.usersDeltaLink; url; ) {
      const res = await fetch(url, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${access_token}`, prefer: 'return=minimal' },
      });
      const page = (await res.json()) as { value: unknown[]; '@odata.nextLink'?: string };
      merged.apply(page.value.map((v) => userItemSchema.parse(v)));
      url = page['@odata.nextLink'];
    }
    await agent.close();
    const plain = await read((c) => c.readChanges(baseline));
    // The connector also reads the purpose of b, now blocked; the delta merge alone knows none.
    const unread = (users: SourceUser[]) => users.map((u) => ({ ...u, mailbox: null }));
    expect(unread(merged.result())).toEqual(unread(plain.snapshot.users));
    expect(merged.result().find((u) => u.externalId === a!.externalId)).toMatchObject({
      givenName: null,
      displayName: 'Minimal A',
      surname: a!.surname,
    });
  });
});

describe("GraphConnector with softDeletedInDelta: 'properties'", () => {
  let other: Emulator;
  beforeAll(async () => {
    other = await startEmulator({
      users: 30,
      groups: 4,
      seed: 22,
      throttle: false,
      softDeletedInDelta: 'properties',
    });
  });
  afterAll(() => other?.close());

  it('a soft-deleted user that arrives with its properties and @removed still disappears from the snapshot', async () => {
    const first = await read((c) => c.readFull(), other);
    const victim = first.snapshot.users[0]!;
    other.tenant.deleteUser(victim.externalId);
    const result = await read((c) => c.readChanges(first), other);
    expect(result.mode).toBe('delta');
    expect(userIds(result.snapshot)).not.toContain(victim.externalId);
    expect(result.snapshot.users).toHaveLength(first.snapshot.users.length - 1);
  });
});
