/**
 * Behaviours of the real service the emulator reproduces on purpose (docs/emulator.md, "Realism"):
 * expired page tokens, 504s, token-endpoint faults, both spellings of delta expiry, never-set
 * properties, return=minimal, $top on delta, 501 for single-user properties, soft-deleted users.
 */
import { type Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { graphGet, tokenFor, trustingAgent } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph JSON under test is read loosely, then asserted on.
type Obj = Record<string, any>;

let emu: Emulator;
let agent: Agent;
let token: string;

beforeAll(async () => {
  emu = await startEmulator({ users: 80, groups: 12, seed: 7, throttle: false, deltaPageSize: 30 });
  agent = trustingAgent(emu);
  token = await tokenFor(emu, emu.info.apps[0]!, agent);
});
afterAll(() => emu?.close());

const get = (path: string, headers: Record<string, string> = {}) =>
  graphGet(emu, agent, token, path, headers);

/** Every page of a delta round from `url`; returns the items and the deltaLink. */
async function round(url: string, headers: Record<string, string> = {}) {
  const items: Obj[] = [];
  const responses: Awaited<ReturnType<typeof get>>[] = [];
  for (let next: string | undefined = url; next; ) {
    const res = await get(next, headers);
    expect(res.status).toBe(200);
    responses.push(res);
    items.push(...res.body.value);
    next = res.body['@odata.nextLink'];
    if (!next) return { items, responses, deltaLink: res.body['@odata.deltaLink'] as string };
  }
  throw new Error('unreachable');
}

async function postToken(e: Emulator = emu) {
  const app = e.info.apps[0]!;
  const res = await fetch(`${e.info.authorityHost}/${e.info.tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: app.clientId,
      client_secret: app.clientSecret,
      grant_type: 'client_credentials',
      scope: `${e.info.graphBaseUrl}/.default`,
    }).toString(),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Obj };
}

describe('queued faults (failNext)', () => {
  it("'page' answers the next nextLink with 400 Directory_ExpiredPageToken, once, and leaves first pages alone", async () => {
    emu.failNext({ on: 'page', status: 400, code: 'Directory_ExpiredPageToken' });
    const first = await get('/users?$select=id&$top=10');
    expect(first.status).toBe(200);
    const next = first.body['@odata.nextLink'] as string;
    const expired = await get(next);
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('Directory_ExpiredPageToken');
    expect(expired.body.error.message).toBe(
      'The specified page token value has expired and can no longer be included in your request.',
    );
    expect((await get(next)).status).toBe(200);
  });

  it("'graph' with status 504 answers any Graph request with Graph's UnknownError envelope, count times", async () => {
    const before = emu.stats().faults;
    emu.failNext({ on: 'graph', status: 504, count: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await get('/groups?$select=id');
      expect(res.status).toBe(504);
      expect(res.body.error).toMatchObject({ code: 'UnknownError', message: '' });
      expect(res.body.error.innerError['request-id']).toBe(res.headers.get('request-id'));
      expect(res.headers.get('retry-after')).toBeNull();
    }
    expect((await get('/groups?$select=id')).status).toBe(200);
    expect(emu.stats().faults - before).toBe(2);
  });

  it("'token' 429 carries Retry-After and 503 is temporarily_unavailable, both in the identity platform's shape", async () => {
    emu.failNext({ on: 'token', status: 429, retryAfter: 7 });
    emu.failNext({ on: 'token', status: 503 });
    const throttled = await postToken();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect(throttled.body.error_codes).toEqual([90055]);
    expect(throttled.body.error_description).toMatch(/^AADSTS90055: .*\r\nTrace ID: /);
    const busy = await postToken();
    expect(busy.status).toBe(503);
    expect(busy.body).toMatchObject({ error: 'temporarily_unavailable', error_codes: [50033] });
    expect(busy.body.error_description).toMatch(/^AADSTS50033: RetryableError/);
    expect(Object.keys(busy.body).sort()).toEqual([
      'correlation_id',
      'error',
      'error_codes',
      'error_description',
      'error_uri',
      'timestamp',
      'trace_id',
    ]);
    expect((await postToken()).status).toBe(200);
  });

  it('POST /_emulator/fail-next queues the same faults and rejects malformed ones', async () => {
    const admin = (body: unknown) =>
      fetch(`${emu.info.adminUrl}/fail-next`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await admin({ on: 'graph', status: 503, retryAfter: 0.5 })).status).toBe(204);
    const res = await get('/users?$select=id');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('0.5');
    expect(res.body.error.code).toBe('serviceNotAvailable');
    expect((await admin({ on: 'everything', status: 500 })).status).toBe(400);
    expect((await admin({ on: 'graph', status: 200 })).status).toBe(400);
    expect((await admin({ on: 'graph', status: 500, count: 0 })).status).toBe(400);
    expect((await get('/users?$select=id')).status).toBe(200);
  });
});

describe('delta realism', () => {
  it('expires delta tokens with either spelling of the code: syncStateNotFound or SyncStateNotFound', async () => {
    const { deltaLink } = await round('/users/delta?$select=id,displayName');
    emu.tenant.expireDeltaTokens('SyncStateNotFound');
    const capital = await get(deltaLink);
    expect(capital.status).toBe(400);
    expect(capital.body.error.code).toBe('SyncStateNotFound');
    const res = await fetch(`${emu.info.adminUrl}/expire-delta-tokens`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'syncStateNotFound' }),
    });
    expect(res.status).toBe(204);
    expect((await get(deltaLink)).body.error.code).toBe('syncStateNotFound');
    const bad = await fetch(`${emu.info.adminUrl}/expire-delta-tokens`, {
      method: 'POST',
      dispatcher: agent,
      body: JSON.stringify({ mode: 'gone' }),
    });
    expect(bad.status).toBe(400);
  });

  it('ignores $top on users and groups delta (pages keep the server size) but still rejects $orderby', async () => {
    const users = await get('/users/delta?$select=id&$top=5');
    expect(users.status).toBe(200);
    expect(users.body.value).toHaveLength(30);
    expect(users.body['@odata.nextLink']).not.toContain('$top');
    expect((await get('/groups/delta?$select=id&$top=1')).status).toBe(200);
    expect((await get('/users/delta?$orderby=displayName')).status).toBe(400);
  });

  it('omits a never-set property in delta, while list and get return it as null', async () => {
    const domain = emu.info.tenantDomains[0]!;
    const { deltaLink } = await round('/users/delta?$select=id,displayName,givenName,jobTitle');
    const u = emu.tenant.addUser({ displayName: 'Conf Room Omit', userPrincipalName: `omit@${domain}` });
    const inc = await round(deltaLink);
    expect(inc.items).toEqual([{ id: u.id, displayName: 'Conf Room Omit' }]);
    const initial = await round('/users/delta?$select=id,displayName,givenName');
    expect(initial.items.find((i) => i.id === u.id)).toEqual({ id: u.id, displayName: 'Conf Room Omit' });
    expect((await get(`/users/${u.id}?$select=id,givenName,jobTitle`)).body).toMatchObject({
      givenName: null,
      jobTitle: null,
    });
    const listed = (await get('/users?$select=id,givenName&$top=999')).body.value.find(
      (x: Obj) => x.id === u.id,
    );
    expect(listed).toEqual({ id: u.id, givenName: null });
    // Once set, a property stays in the representation, as null when cleared.
    emu.tenant.updateUser(u.id, { givenName: 'Omit' });
    emu.tenant.updateUser(u.id, { givenName: null });
    expect((await round(inc.deltaLink)).items).toEqual([
      { id: u.id, displayName: 'Conf Room Omit', givenName: null },
    ]);
  });

  it('answers Prefer: return=minimal on a later round with only the changed properties, changes to null included', async () => {
    const [a, b] = emu.tenant.listUsers().filter((u) => u.jobTitle);
    const select = '/users/delta?$select=id,displayName,jobTitle,mobilePhone,userPrincipalName';
    const start = await round(select, { prefer: 'return=minimal' });
    // The initial round is the full current state whatever the header says.
    expect(start.items.find((i) => i.id === a!.id)).toHaveProperty('userPrincipalName');
    expect(start.responses[0]!.headers.get('preference-applied')).toBeNull();
    emu.tenant.updateUser(a!.id, { displayName: 'Renamed A', jobTitle: null });
    emu.tenant.updateUser(b!.id, { mobilePhone: '+1 425 555 0199' });
    const minimal = await round(start.deltaLink, { prefer: 'return=minimal' });
    expect(minimal.items).toEqual([
      { id: a!.id, displayName: 'Renamed A', jobTitle: null },
      { id: b!.id, mobilePhone: '+1 425 555 0199' },
    ]);
    expect(minimal.responses.at(-1)!.headers.get('preference-applied')).toBe('return=minimal');
    // Without the header the same changes come with every selected (set) property.
    const full = await round(start.deltaLink);
    expect(full.items.find((i) => i.id === b!.id)).toMatchObject({
      userPrincipalName: b!.userPrincipalName,
      mobilePhone: '+1 425 555 0199',
    });
    expect(full.responses.at(-1)!.headers.get('preference-applied')).toBeNull();
  });

  it('answers return=minimal on groups with id and members@delta alone for a membership change', async () => {
    const g = emu.tenant.listGroups().find((x) => !(x.groupTypes as string[]).includes('Unified'))!;
    const start = await round('/groups/delta?$select=id,displayName,mail,members');
    const newcomer = emu.tenant.listUsers().find((u) => !g.members.includes(u.id))!;
    emu.tenant.addMember(g.id, newcomer.id);
    const minimal = await round(start.deltaLink, { prefer: 'return=minimal' });
    expect(minimal.items).toEqual([
      { id: g.id, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: newcomer.id }] },
    ]);
  });

  it('lists service principals among members and members@delta, typed #microsoft.graph.servicePrincipal', async () => {
    const sp = emu.tenant.addServicePrincipal({ displayName: 'Mail Relay', appDisplayName: 'Mail Relay' });
    const g = emu.tenant.listGroups().find((x) => !(x.groupTypes as string[]).includes('Unified'))!;
    const start = await round('/groups/delta?$select=id,members');
    emu.tenant.addMember(g.id, sp.id);
    const members = await get(`/groups/${g.id}/members?$select=id`);
    expect(members.body.value).toContainEqual({
      '@odata.type': '#microsoft.graph.servicePrincipal',
      id: sp.id,
    });
    // The sync app has no Application.Read.All: a service principal comes back with type and id only.
    const limited = await get(
      `/groups/${g.id}/members/microsoft.graph.servicePrincipal?$select=id,displayName`,
    );
    expect(limited.body.value).toEqual([
      { '@odata.type': '#microsoft.graph.servicePrincipal', id: sp.id, displayName: null },
    ]);
    const inc = await round(start.deltaLink);
    expect(inc.items.find((i) => i.id === g.id)!['members@delta']).toContainEqual({
      '@odata.type': '#microsoft.graph.servicePrincipal',
      id: sp.id,
    });
  });

  it('shows a soft-deleted user as {id, @removed: changed} and a hard-deleted one as reason deleted', async () => {
    const [soft, hard] = emu.tenant.listUsers().slice(-2);
    const { deltaLink } = await round('/users/delta?$select=id,displayName,mail');
    emu.tenant.deleteUser(soft!.id);
    emu.tenant.deleteUser(hard!.id, { permanent: true });
    expect((await round(deltaLink)).items).toEqual([
      { id: soft!.id, '@removed': { reason: 'changed' } },
      { id: hard!.id, '@removed': { reason: 'deleted' } },
    ]);
  });
});

describe('collections', () => {
  it('answers 501 NotImplemented for a /users $select of a property served for one user only (e.g. skills)', async () => {
    for (const prop of ['skills', 'aboutMe', 'mailboxSettings']) {
      const res = await get(`/users?$select=id,${prop}`);
      expect(res.status).toBe(501);
      expect(res.body.error).toMatchObject({
        code: 'NotImplemented',
        message: 'This operation target is not yet supported.',
      });
    }
    const one = emu.tenant.listUsers()[0]!;
    expect((await get(`/users/${one.id}?$select=id,skills`)).status).toBe(200);
  });
});

describe("softDeletedInDelta: 'properties'", () => {
  let other: Emulator;
  beforeAll(async () => {
    other = await startEmulator({
      users: 10,
      groups: 2,
      seed: 8,
      throttle: false,
      softDeletedInDelta: 'properties',
    });
  });
  afterAll(() => other?.close());

  it("returns a soft-deleted user's selected properties besides @removed; a hard delete stays id-only", async () => {
    const a = trustingAgent(other);
    const t = await tokenFor(other, other.info.apps[0]!, a);
    const first = await graphGet(other, a, t, '/users/delta?$select=id,displayName,mail');
    const [soft, hard] = other.tenant.listUsers();
    other.tenant.deleteUser(soft!.id);
    other.tenant.deleteUser(hard!.id, { permanent: true });
    const inc = await graphGet(other, a, t, first.body['@odata.deltaLink']);
    expect(inc.body.value).toEqual([
      {
        id: soft!.id,
        displayName: soft!.displayName,
        ...(soft!.mail ? { mail: soft!.mail } : {}),
        '@removed': { reason: 'changed' },
      },
      { id: hard!.id, '@removed': { reason: 'deleted' } },
    ]);
    await a.close();
  });
});
