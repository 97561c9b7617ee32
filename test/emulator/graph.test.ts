/**
 * Graph conformance: Microsoft's @microsoft/microsoft-graph-client (PageIterator, RetryHandler,
 * BatchRequestContent) and plain HTTPS against the emulator's v1.0 surface.
 */
import {
  BatchRequestContent,
  BatchResponseContent,
  type Client,
  type PageCollection,
  PageIterator,
} from '@microsoft/microsoft-graph-client';
import type { Agent } from 'undici';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, type EmulatorApp, startEmulator } from '../../src/emulator/index.js';
import { graphClient, graphGet, tokenFor, trustingAgent } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph JSON under test is read loosely, then asserted on.
type Obj = Record<string, any> & { id: string };

let emu: Emulator;
let agent: Agent;
let token: string;
let client: Client;

beforeAll(async () => {
  emu = await startEmulator({
    users: 260,
    groups: 24,
    seed: 5,
    deltaPageSize: 50,
    deltaMembersPerPage: 40,
    throttle: false,
  });
  agent = trustingAgent(emu);
  token = await tokenFor(emu, emu.info.apps[0]!, agent);
  client = graphClient(emu, token, agent);
});
afterAll(() => emu?.close());

async function all(first: PageCollection, c: Client = client): Promise<Obj[]> {
  const out: Obj[] = [];
  await new PageIterator(c, first, (o: Obj) => {
    out.push(o);
    return true;
  }).iterate();
  return out;
}

/** Follows nextLinks to the deltaLink; returns the pages and the deltaLink. */
async function deltaRound(url: string): Promise<{ pages: Obj[][]; deltaLink: string }> {
  const pages: Obj[][] = [];
  let next = url;
  for (;;) {
    const res = await client.api(next).get();
    pages.push(res.value);
    if (res['@odata.nextLink']) {
      expect(res['@odata.deltaLink']).toBeUndefined();
      next = res['@odata.nextLink'];
    } else {
      expect(res['@odata.deltaLink']).toMatch(/\$deltatoken=/);
      return { pages, deltaLink: res['@odata.deltaLink'] };
    }
  }
}

const DEFAULT_USER_KEYS = [
  'businessPhones',
  'displayName',
  'givenName',
  'id',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
];

describe('users and groups lists', () => {
  it('pages all users with PageIterator through absolute nextLinks carrying $skiptoken', async () => {
    const first = await client.api('/users').select('id,mail,proxyAddresses,accountEnabled').top(100).get();
    expect(first.value).toHaveLength(100);
    expect(first['@odata.nextLink']).toMatch(
      new RegExp(`^${emu.info.graphBaseUrl}/v1\\.0/users\\?.*\\$skiptoken=`),
    );
    const users = await all(first);
    expect(users.map((u) => u.id).sort()).toEqual(
      emu.tenant
        .listUsers()
        .map((u) => u.id)
        .sort(),
    );
    expect(users.every((u) => Array.isArray(u.proxyAddresses) && typeof u.accountEnabled === 'boolean')).toBe(
      true,
    );
  });

  it('returns Microsoft default property sets: users without proxyAddresses/accountEnabled, groups with them', async () => {
    const u = await client.api('/users').get();
    expect(u.value).toHaveLength(100); // default page size
    expect(Object.keys(u.value[0]).sort()).toEqual(DEFAULT_USER_KEYS);
    const g = await client.api('/groups').top(5).get();
    for (const key of [
      'proxyAddresses',
      'mailEnabled',
      'securityEnabled',
      'groupTypes',
      'mail',
      'mailNickname',
    ]) {
      expect(g.value[0]).toHaveProperty(key);
    }
    expect(g['@odata.context']).toBe(`${emu.info.graphBaseUrl}/v1.0/$metadata#groups`);
  });

  it('rejects $top above 999, $skip and unknown $select properties', async () => {
    expect((await graphGet(emu, agent, token, '/users?$top=1000')).status).toBe(400);
    expect((await graphGet(emu, agent, token, '/users?$top=999')).body.value).toHaveLength(260);
    expect((await graphGet(emu, agent, token, '/users?$skip=5')).status).toBe(400);
    const bad = await graphGet(emu, agent, token, '/users?$select=id,nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toBe(
      "Could not find a property named 'nonsense' on type 'microsoft.graph.user'.",
    );
  });

  it('applies the default $filter forms', async () => {
    const users = emu.tenant.listUsers();
    const q = async (f: string, kind = 'users') =>
      (await all(await client.api(`/${kind}`).filter(f).select('id').top(999).get())).map((o) => o.id).sort();
    expect(await q('accountEnabled eq false')).toEqual(
      users
        .filter((u) => u.accountEnabled === false)
        .map((u) => u.id)
        .sort(),
    );
    const guests = await q("userType eq 'Guest'");
    expect(guests.length).toBeGreaterThan(0);
    expect(guests).toEqual(
      users
        .filter((u) => String(u.userPrincipalName).includes('#EXT#'))
        .map((u) => u.id)
        .sort(),
    );
    const someone = users.find((u) => (u.proxyAddresses as string[]).some((p) => p.startsWith('smtp:')))!;
    const alias = (someone.proxyAddresses as string[]).find((p) => p.startsWith('smtp:'))!;
    expect(await q(`proxyAddresses/any(p:p eq '${alias.toUpperCase().replace('SMTP:', 'smtp:')}')`)).toEqual([
      someone.id,
    ]);
    const prefix = String(someone.userPrincipalName).slice(0, 4);
    expect(await q(`startsWith(userPrincipalName,'${prefix}')`)).toEqual(
      users
        .filter((u) => String(u.userPrincipalName).toLowerCase().startsWith(prefix.toLowerCase()))
        .map((u) => u.id)
        .sort(),
    );
    const groups = emu.tenant.listGroups();
    expect(await q("groupTypes/any(c:c eq 'Unified')", 'groups')).toEqual(
      groups
        .filter((g) => (g.groupTypes as string[]).includes('Unified'))
        .map((g) => g.id)
        .sort(),
    );
    expect(await q('mailEnabled eq true and securityEnabled eq false', 'groups')).toEqual(
      groups
        .filter((g) => g.mailEnabled === true && g.securityEnabled === false)
        .map((g) => g.id)
        .sort(),
    );
  });

  it('enforces ConsistencyLevel: eventual + $count for advanced queries', async () => {
    const ends = await graphGet(emu, agent, token, "/users?$filter=endsWith(mail,'.com')");
    expect(ends.status).toBe(400);
    expect(ends.body.error.code).toBe('Request_UnsupportedQuery');
    const ok = await graphGet(
      emu,
      agent,
      token,
      "/users?$filter=endsWith(mail,'.com')&$count=true&$top=999",
      {
        consistencylevel: 'eventual',
      },
    );
    expect(ok.status).toBe(200);
    expect(ok.body['@odata.count']).toBe(ok.body.value.length);
    const countNoHeader = await graphGet(emu, agent, token, '/users/$count');
    expect(countNoHeader.status).toBe(400);
    expect(countNoHeader.body.error.message).toBe('$count is not currently supported.');
    const count = await graphGet(emu, agent, token, '/users/$count', { consistencylevel: 'eventual' });
    expect(count.body).toBe('260');
    // $count=true without the header is silently ignored, as Graph does.
    expect(
      (await graphGet(emu, agent, token, '/users?$count=true&$top=1')).body['@odata.count'],
    ).toBeUndefined();
    const search = await graphGet(emu, agent, token, '/users?$search="displayName:conf"');
    expect(search.status).toBe(400);
  });

  it('answers Graph-shaped 401 and 404 errors', async () => {
    const noToken = await fetch(`${emu.info.graphBaseUrl}/v1.0/users`, { dispatcher: agent });
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('www-authenticate')).toMatch(/^Bearer realm=""/);
    expect(((await noToken.json()) as Obj).error.code).toBe('InvalidAuthenticationToken');
    const missing = await graphGet(emu, agent, token, '/groups/0b1f5a9e-0000-4000-8000-000000000000/members');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
  });
});

describe('group members', () => {
  it('pages direct members of the largest group with mixed @odata.types', async () => {
    const groups = emu.tenant.listGroups().sort((a, b) => b.members.length - a.members.length);
    const big = groups[0]!;
    expect(big.members.length).toBeGreaterThan(100);
    const members = await all(await client.api(`/groups/${big.id}/members`).select('id').top(100).get());
    expect(members.map((m) => m.id)).toEqual(big.members);
    expect(members.filter((m) => m['@odata.type'] === '#microsoft.graph.user').length).toBeGreaterThan(100);
    const types = new Set<string>();
    for (const g of groups) {
      for (const m of (await client.api(`/groups/${g.id}/members`).select('id').top(999).get()).value)
        types.add(m['@odata.type']);
    }
    expect([...types].sort()).toEqual([
      '#microsoft.graph.device',
      '#microsoft.graph.group',
      '#microsoft.graph.orgContact',
      '#microsoft.graph.servicePrincipal',
      '#microsoft.graph.user',
    ]);
  });

  it('returns members the app may not read with limited information only', async () => {
    const withContact = emu.tenant
      .listGroups()
      .find((g) => g.members.some((id) => !emu.tenant.getUser(id) && !emu.tenant.getGroup(id)))!;
    const res = await client
      .api(`/groups/${withContact.id}/members`)
      .select('id,displayName,mail')
      .top(999)
      .get();
    const user = res.value.find((m: Obj) => m['@odata.type'] === '#microsoft.graph.user');
    expect(user.mail).toEqual(emu.tenant.getUser(user.id)!.mail);
    const other = res.value.find(
      (m: Obj) =>
        m['@odata.type'] !== '#microsoft.graph.user' && m['@odata.type'] !== '#microsoft.graph.group',
    );
    // The sync app has User.Read.All + GroupMember.Read.All, not OrgContact.Read.All / Device.Read.All.
    expect(other.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(other.displayName).toBeNull();
    // An app with GroupMember.Read.All only sees users as limited objects too.
    const groupOnly = emu.tenant.addApp({ roles: ['GroupMember.Read.All'], displayName: 'members-only' });
    const t2 = await tokenFor(emu, groupOnly, agent);
    const limited = await graphGet(emu, agent, t2, `/groups/${withContact.id}/members?$select=id,mail`);
    const lu = limited.body.value.find((m: Obj) => m.id === user.id);
    expect(lu).toEqual({ '@odata.type': '#microsoft.graph.user', id: user.id, mail: null });
    expect((await graphGet(emu, agent, t2, '/users?$select=id')).status).toBe(403);
  });

  it('flattens nested groups in transitiveMembers and refuses a group cast on Microsoft 365 groups', async () => {
    const groups = emu.tenant.listGroups();
    const parent = groups.find((g) => g.members.some((id) => emu.tenant.getGroup(id)))!;
    const expected = new Set<string>();
    const walk = (gid: string, seen: Set<string>) => {
      for (const m of emu.tenant.getGroup(gid)!.members) {
        expected.add(m);
        if (emu.tenant.getGroup(m) && !seen.has(m)) walk(m, seen.add(m));
      }
    };
    walk(parent.id, new Set([parent.id]));
    const got = await all(
      await client.api(`/groups/${parent.id}/transitiveMembers`).select('id').top(999).get(),
    );
    expect(new Set(got.map((m) => m.id))).toEqual(expected);
    expect(got.length).toBeGreaterThan(parent.members.length);
    const m365 = groups.find((g) => (g.groupTypes as string[]).includes('Unified'))!;
    const cast = await graphGet(emu, agent, token, `/groups/${m365.id}/members/microsoft.graph.group`);
    expect(cast.status).toBe(400);
    expect(cast.body.error.code).toBe('Request_UnsupportedQuery');
    const users = await graphGet(
      emu,
      agent,
      token,
      `/groups/${parent.id}/members/microsoft.graph.user?$select=id`,
    );
    expect(users.body.value.map((m: Obj) => m.id)).toEqual(
      parent.members.filter((id) => emu.tenant.getUser(id)),
    );
  });
});

describe('delta', () => {
  it('runs a users delta round, then reports additions, updates and soft/hard deletions', async () => {
    const initial = await deltaRound('/users/delta?$select=id,displayName,mail,accountEnabled');
    expect(initial.pages.length).toBeGreaterThan(1);
    expect(
      initial.pages
        .flat()
        .map((u) => u.id)
        .sort(),
    ).toEqual(
      emu.tenant
        .listUsers()
        .map((u) => u.id)
        .sort(),
    );
    const [a, b, c] = emu.tenant.listUsers();
    const added = emu.tenant.addUser({
      displayName: 'New Person',
      mail: 'new.person@example.test',
      userPrincipalName: 'new.person@example.test',
    });
    emu.tenant.updateUser(a!.id, { accountEnabled: false });
    emu.tenant.deleteUser(b!.id);
    emu.tenant.deleteUser(c!.id, { permanent: true });
    const second = await deltaRound(initial.deltaLink);
    const byId = new Map(second.pages.flat().map((o) => [o.id, o]));
    expect(byId.size).toBe(4);
    expect(byId.get(added.id)).toMatchObject({
      displayName: 'New Person',
      mail: 'new.person@example.test',
      accountEnabled: true,
    });
    expect(byId.get(a!.id)).toMatchObject({ accountEnabled: false });
    expect(byId.get(b!.id)).toEqual({ id: b!.id, '@removed': { reason: 'changed' } });
    expect(byId.get(c!.id)).toEqual({ id: c!.id, '@removed': { reason: 'deleted' } });
    // Nothing changed since: an empty page with a fresh deltaLink.
    const third = await deltaRound(second.deltaLink);
    expect(third.pages).toEqual([[]]);
    emu.tenant.restoreUser(b!.id);
    const fourth = await deltaRound(third.deltaLink);
    expect(fourth.pages.flat().map((o) => o.id)).toEqual([b!.id]);
  });

  it('splits large groups members@delta across pages and reports membership changes with @removed', async () => {
    const initial = await deltaRound('/groups/microsoft.graph.delta?$select=id,displayName,members');
    const merged = new Map<string, string[]>();
    const appearances = new Map<string, number>();
    for (const g of initial.pages.flat()) {
      appearances.set(g.id, (appearances.get(g.id) ?? 0) + 1);
      merged.set(g.id, [...(merged.get(g.id) ?? []), ...(g['members@delta'] ?? []).map((m: Obj) => m.id)]);
    }
    for (const g of emu.tenant.listGroups()) expect(merged.get(g.id)).toEqual(g.members);
    expect(Math.max(...appearances.values())).toBeGreaterThan(1);
    const target = emu.tenant
      .listGroups()
      .find((g) => !(g.groupTypes as string[]).includes('Unified') && g.members.length > 2)!;
    const leaving = target.members.find((id) => emu.tenant.getUser(id))!;
    const joining = emu.tenant.listUsers().find((u) => !target.members.includes(u.id))!;
    emu.tenant.removeMember(target.id, leaving);
    emu.tenant.addMember(target.id, joining.id);
    const renamed = emu.tenant.listGroups()[1]!;
    emu.tenant.updateGroup(renamed.id, { displayName: 'Renamed Group' });
    const second = await deltaRound(initial.deltaLink);
    const changed = second.pages.flat();
    expect(changed.map((g) => g.id).sort()).toEqual([target.id, renamed.id].sort());
    const t = changed.find((g) => g.id === target.id)!;
    expect(t['members@delta']).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: leaving, '@removed': { reason: 'deleted' } },
      { '@odata.type': '#microsoft.graph.user', id: joining.id },
    ]);
    expect(changed.find((g) => g.id === renamed.id)!.displayName).toBe('Renamed Group');
  });

  it('supports $deltatoken=latest and the /delta alias', async () => {
    const latest = await client.api('/groups/delta?$deltatoken=latest').get();
    expect(latest.value).toEqual([]);
    expect(latest['@odata.deltaLink']).toBeDefined();
    const g = emu.tenant.addGroup({
      displayName: 'Fresh DL',
      mail: 'fresh.dl@example.test',
      mailEnabled: true,
      securityEnabled: false,
    });
    const round = await deltaRound(latest['@odata.deltaLink']);
    expect(round.pages.flat().map((o) => o.id)).toEqual([g.id]);
  });

  it('answers expired tokens with 400 syncStateNotFound, or 410 Gone + Location after a reset', async () => {
    const { deltaLink } = await deltaRound('/users/delta?$select=id');
    const first = await graphGet(emu, agent, token, '/users/delta?$select=id');
    emu.tenant.expireDeltaTokens();
    const expired = await graphGet(emu, agent, token, deltaLink);
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('syncStateNotFound');
    expect((await graphGet(emu, agent, token, first.body['@odata.nextLink'])).status).toBe(400);
    const fresh = await deltaRound('/users/delta?$select=id');
    emu.tenant.expireDeltaTokens('resync');
    const gone = await graphGet(emu, agent, token, fresh.deltaLink);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('location')).toBe(
      `${emu.info.graphBaseUrl}/v1.0/users/delta?$select=id&$deltatoken=`,
    );
    const restart = await graphGet(emu, agent, token, gone.headers.get('location')!);
    expect(restart.status).toBe(200);
  });
});

describe('$batch', () => {
  it('runs BatchRequestContent items with per-item status and 424 for a failed dependency', async () => {
    const base = `${emu.info.graphBaseUrl}/v1.0`;
    const group = emu.tenant.listGroups()[0]!;
    const content = new BatchRequestContent([
      { id: '1', request: new Request(`${base}/users?$select=id&$top=5`, { method: 'GET' }) },
      {
        id: '2',
        request: new Request(`${base}/groups/${group.id}/members?$select=id&$top=3`, { method: 'GET' }),
      },
      {
        id: '3',
        request: new Request(`${base}/groups/0b1f5a9e-0000-4000-8000-000000000000/members`, {
          method: 'GET',
        }),
      },
    ]);
    const res = new BatchResponseContent(await client.api('/$batch').post(await content.getContent()));
    expect(res.getResponseById('1').status).toBe(200);
    expect(((await res.getResponseById('1').json()) as Obj).value).toHaveLength(5);
    expect(res.getResponseById('2').status).toBe(200);
    expect(res.getResponseById('3').status).toBe(404);
    // Serial batch: the second request depends on the failing first one.
    const serial = new BatchRequestContent([
      {
        id: 'a',
        request: new Request(`${base}/groups/0b1f5a9e-0000-4000-8000-000000000000`, { method: 'GET' }),
      },
      { id: 'b', request: new Request(`${base}/users?$top=1`, { method: 'GET' }), dependsOn: ['a'] },
    ]);
    const res2 = new BatchResponseContent(await client.api('/$batch').post(await serial.getContent()));
    expect(res2.getResponseById('a').status).toBe(404);
    expect(res2.getResponseById('b').status).toBe(424);
  });

  it('rejects more than 20 requests and duplicate ids with 400', async () => {
    const post = (requests: unknown[]) =>
      fetch(`${emu.info.graphBaseUrl}/v1.0/$batch`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ requests }),
      });
    const many = Array.from({ length: 21 }, (_, i) => ({
      id: String(i),
      method: 'GET',
      url: '/users?$top=1',
    }));
    expect((await post(many)).status).toBe(400);
    expect(
      (
        await post([
          { id: 'a', method: 'GET', url: '/users' },
          { id: 'A', method: 'GET', url: '/groups' },
        ])
      ).status,
    ).toBe(400);
    expect((await post(many.slice(0, 20))).status).toBe(200);
  });
});

describe('throttling and faults', () => {
  let small: Emulator;
  let a: Agent;
  let app: EmulatorApp;
  beforeAll(async () => {
    small = await startEmulator({
      users: 40,
      groups: 3,
      seed: 9,
      resourceUnitQuota: 4,
      faultRetryAfter: 0.05,
    });
    a = trustingAgent(small);
    app = small.info.apps[0]!;
  });
  afterAll(() => small?.close());

  it('charges resource units and answers 429 with Retry-After and throttle headers when the budget is spent', async () => {
    const t = await tokenFor(small, app, a);
    const r1 = await graphGet(small, a, t, '/users?$select=id');
    expect(r1.headers.get('x-ms-resource-unit')).toBe('1');
    const r2 = await graphGet(small, a, t, '/users');
    expect(r2.headers.get('x-ms-resource-unit')).toBe('2');
    expect(r2.headers.get('x-ms-throttle-limit-percentage')).toBeNull(); // 3 of 4 RU: below 80 %
    const r3 = await graphGet(small, a, t, '/users?$select=id');
    expect(r3.headers.get('x-ms-throttle-limit-percentage')).toBe('1.0');
    let throttled: Awaited<ReturnType<typeof graphGet>> | null = null;
    for (let i = 0; i < 5 && !throttled; i++) {
      const r = await graphGet(small, a, t, '/users?$select=id');
      if (r.status === 429) throttled = r;
    }
    expect(throttled?.body.error.code).toBe('TooManyRequests');
    expect(Number(throttled?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(throttled?.headers.get('x-ms-throttle-scope')).toBe(
      `Tenant_Application/ReadWrite/${app.clientId}/${small.info.tenantId}`,
    );
    expect(small.stats().throttled).toBeGreaterThan(0);
  });

  it("lets the SDK's RetryHandler recover by honouring Retry-After", async () => {
    small.resetStats();
    const t = await tokenFor(small, app, a);
    const c = graphClient(small, t, a);
    const started = Date.now();
    for (let i = 0; i < 6; i++) await c.api('/users').select('id').top(5).get();
    expect(small.stats().throttled).toBeGreaterThan(0);
    // Retry-After was at least 1 s (quota 4 RU / 10 s): the SDK must have waited, not hammered.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(small.stats().requests).toBeLessThan(6 + 6 * 3);
  });

  it('injects 429, 503, 504 and dropped connections at --fault-rate; a retrying client still reads everything', async () => {
    small.setThrottling(false);
    const t = await tokenFor(small, app, a);
    small.resetStats();
    small.setFaultRate(0.6);
    const seen = new Set<string>();
    const ids: string[] = [];
    let url: string | undefined = `${small.info.graphBaseUrl}/v1.0/users?$select=id&$top=2`;
    while (url) {
      let res: Awaited<ReturnType<typeof graphGet>>;
      try {
        res = await graphGet(small, a, t, url);
      } catch (err) {
        seen.add('drop');
        expect(String((err as Error).cause ?? err)).toMatch(/socket|closed|reset|terminated/i);
        continue;
      }
      if (res.status === 429 || res.status === 503 || res.status === 504) {
        seen.add(String(res.status));
        if (res.status === 429) expect(res.headers.get('retry-after')).toBe('0.05');
        continue;
      }
      expect(res.status).toBe(200);
      ids.push(...res.body.value.map((u: Obj) => u.id));
      url = res.body['@odata.nextLink'];
    }
    small.setFaultRate(0);
    expect(ids.sort()).toEqual(
      small.tenant
        .listUsers()
        .map((u) => u.id)
        .sort(),
    );
    expect([...seen].sort()).toEqual(['429', '503', '504', 'drop']);
    expect(small.stats().faults).toBeGreaterThan(0);
  });
});
