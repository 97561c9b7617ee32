/**
 * Exchange's mailbox purpose through Graph (docs/emulator.md, "Mailbox settings"): the property
 * read directly and in $batch, MailboxSettings.Read, users without a mailbox, faults on single batch
 * items, mailboxSettings kept out of lists and delta, and the generated shares of mailbox kinds.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Emulator,
  type EmulatorApp,
  type GraphObject,
  generateTenant,
  startEmulator,
} from '../../src/emulator/index.js';
import { graphGet, tokenFor, trustingAgent } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: Graph JSON under test is read loosely, then asserted on.
type Obj = Record<string, any>;

// Microsoft's metadata, trimmed to the types served (tools/trim-csdl.ts); GRAPH_CSDL checks a full one.
const csdlPath =
  process.env.GRAPH_CSDL ?? fileURLToPath(new URL('./graph-v1.0-directory.csdl', import.meta.url));

let emu: Emulator;
let agent: Agent;
/** entrasync-sync: the directory and MailboxSettings.Read. */
let token: string;
let domain: string;
let person: GraphObject;
let shared: GraphObject;
let noMailbox: GraphObject;
let mailOnly: GraphObject;
let guest: GraphObject;

const appNamed = (e: Emulator, name: string) => e.info.apps.find((a) => a.displayName === name)!;

beforeAll(async () => {
  emu = await startEmulator({ users: 200, groups: 6, seed: 13, throttle: false });
  agent = trustingAgent(emu);
  token = await tokenFor(emu, appNamed(emu, 'entrasync-sync'), agent);
  domain = emu.info.tenantDomains[0]!;
  person = emu.tenant.addUser({
    displayName: 'Ada Vance',
    userPrincipalName: `ada.vance@${domain}`,
    mail: `ada.vance@${domain}`,
  });
  shared = emu.tenant.addUser({
    displayName: 'Billing',
    userPrincipalName: `billing@${domain}`,
    mail: `billing@${domain}`,
    accountEnabled: false,
    mailboxSettings: { userPurpose: 'shared' },
  });
  noMailbox = emu.tenant.addUser({ displayName: 'No Mailbox', userPrincipalName: `nomail@${domain}` });
  // `mail` without an SMTP proxy address: a directory value, no Exchange mailbox (docs/graph-facts.md §2.3).
  mailOnly = emu.tenant.addUser({
    displayName: 'Mail Only',
    userPrincipalName: `mailonly@${domain}`,
    mail: `mailonly@${domain}`,
    proxyAddresses: [],
  });
  guest = emu.tenant.addUser({
    displayName: 'Eve (Guest)',
    userPrincipalName: `eve_gmail.com#EXT#@${emu.info.tenantDomains[2]}`,
    mail: 'eve@gmail.com',
    userType: 'Guest',
  });
});
afterAll(() => emu?.close());

const get = (path: string, t = token) => graphGet(emu, agent, t, path);

async function batch(requests: Obj[], t = token, e = emu, a = agent) {
  const res = await fetch(`${e.info.graphBaseUrl}/v1.0/$batch`, {
    method: 'POST',
    dispatcher: a,
    headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
    body: JSON.stringify({ requests }),
  });
  const body = (await res.json()) as { responses: Obj[] };
  const byId = new Map(body.responses.map((r) => [String(r.id), r]));
  return { status: res.status, byId };
}

const purposeUrl = (key: string) => `/users/${key}/mailboxSettings/userPurpose`;

async function tokenWith(roles: string[]): Promise<string> {
  const app: EmulatorApp = emu.tenant.addApp({ roles, displayName: `with ${roles.join('+') || 'nothing'}` });
  return tokenFor(emu, app, agent);
}

describe('GET /users/{id|upn}/mailboxSettings/userPurpose', () => {
  it('answers as Microsoft documents it: the context names the user as asked, the value the purpose', async () => {
    const byId = await get(purposeUrl(shared.id));
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({
      '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#users('${shared.id}')/mailboxSettings/userPurpose`,
      value: 'shared',
    });
    const byUpn = await get(purposeUrl(`billing@${domain}`));
    expect(byUpn.body).toEqual({
      '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#users('billing%40${domain}')/mailboxSettings/userPurpose`,
      value: 'shared',
    });
    // Segments are matched in any letter case, as Graph does.
    expect((await get(`/users/${shared.id}/mailboxsettings/userpurpose`)).body.value).toBe('shared');
  });

  it("is 'user' for a mailbox the tenant gives no purpose, and follows a change made through the admin side", async () => {
    expect((await get(purposeUrl(person.id))).body.value).toBe('user');
    emu.tenant.updateUser(person.id, { mailboxSettings: { userPurpose: 'linked' } });
    expect((await get(purposeUrl(person.id))).body.value).toBe('linked');
    emu.tenant.updateUser(person.id, { mailboxSettings: { userPurpose: 'user' } });
  });

  it('builds the context on the host the request came to', async () => {
    const url = `${emu.info.graphBaseUrl.replace('127.0.0.1', 'localhost')}/v1.0${purposeUrl(shared.id)}`;
    const res = await get(url);
    expect(res.body['@odata.context']).toMatch(/^https:\/\/localhost:\d+\/v1\.0\/\$metadata#users\(/);
  });
});

describe('GET /users/{id}/mailboxSettings', () => {
  it('serves every property of the CSDL complex type, userPurpose as the enum string', async () => {
    const xml = readFileSync(csdlPath, 'utf8');
    const complex = /<ComplexType Name="mailboxSettings">([\s\S]*?)<\/ComplexType>/.exec(xml)![1]!;
    const names = [...complex.matchAll(/<Property Name="(\w+)"/g)].map((m) => m[1]);
    const res = await get(`/users/${shared.id}/mailboxSettings`);
    expect(res.status).toBe(200);
    const { '@odata.context': ctx, ...settings } = res.body;
    expect(ctx).toBe(`${emu.info.graphBaseUrl}/v1.0/$metadata#users('${shared.id}')/mailboxSettings`);
    expect(Object.keys(settings)).toEqual(names);
    expect(settings.userPurpose).toBe('shared');
    expect(settings.language).toEqual({ locale: 'en-US', displayName: 'English (United States)' });
    expect(typeof settings.archiveFolder).toBe('string');
  });

  it('takes $select=userPurpose, and serves a complex property as an object', async () => {
    const sel = await get(`/users/${shared.id}/mailboxSettings?$select=userPurpose`);
    expect(sel.body).toEqual({
      '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#users('${shared.id}')/mailboxSettings(userPurpose)`,
      userPurpose: 'shared',
    });
    const bad = await get(`/users/${shared.id}/mailboxSettings?$select=purpose`);
    expect(bad.status).toBe(400);
    const hours = await get(`/users/${shared.id}/mailboxSettings/workingHours`);
    expect(hours.body['@odata.context']).toMatch(/\/mailboxSettings\/workingHours$/);
    expect(hours.body.daysOfWeek).toContain('monday');
    expect((await get(`/users/${shared.id}/mailboxSettings/nothing`)).status).toBe(400);
  });

  it('is also served by $select=mailboxSettings on the one user', async () => {
    const res = await get(`/users/${shared.id}?$select=id,mailboxSettings`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(shared.id);
    expect(res.body.mailboxSettings.userPurpose).toBe('shared');
  });
});

describe('permissions and users without a mailbox', () => {
  it('answers 403 ErrorAccessDenied without MailboxSettings.Read, directly, via $select and in $batch', async () => {
    const t = await tokenWith(['User.Read.All', 'GroupMember.Read.All']);
    const denied = {
      code: 'ErrorAccessDenied',
      message: 'Access is denied. Check credentials and try again.',
    };
    for (const path of [purposeUrl(shared.id), `/users/${shared.id}/mailboxSettings`]) {
      const res = await get(path, t);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject(denied);
    }
    expect((await get(`/users/${shared.id}?$select=mailboxSettings`, t)).status).toBe(403);
    expect((await get(`/users/${shared.id}?$select=id,mail`, t)).status).toBe(200);
    const b = await batch([{ id: '1', method: 'GET', url: purposeUrl(shared.id) }], t);
    expect(b.status).toBe(200);
    expect(b.byId.get('1')).toMatchObject({ status: 403, body: { error: denied } });
  });

  it('needs no directory permission: MailboxSettings.ReadWrite alone reads the purpose', async () => {
    const t = await tokenWith(['MailboxSettings.ReadWrite']);
    expect((await get(purposeUrl(shared.id), t)).body.value).toBe('shared');
    expect((await get(`/users/${shared.id}`, t)).status).toBe(403);
  });

  it('answers 404 MailboxNotEnabledForRESTAPI for a user without a mailbox, a guest and a mail-only user', async () => {
    for (const u of [noMailbox, guest, mailOnly]) {
      const res = await get(purposeUrl(u.id));
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({
        code: 'MailboxNotEnabledForRESTAPI',
        message: 'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
      });
    }
    expect((await get(`/users/${noMailbox.id}?$select=mailboxSettings`)).status).toBe(404);
  });

  it('answers 404 ResourceNotFound for a user nobody knows, and 400 for a key that is no id', async () => {
    const res = await get(purposeUrl('00000000-0000-4000-8000-00000000dead'));
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('ResourceNotFound');
    expect((await get(purposeUrl(`nobody@${domain}`))).status).toBe(404);
    expect((await get(purposeUrl('nobody'))).status).toBe(400);
  });
});

describe('$batch of userPurpose reads', () => {
  it('answers each of 20 items on its own, charged and counted one by one', async () => {
    const mailboxes = emu.tenant
      .listUsers()
      .filter((u) => u.userType === 'Member' && (u.proxyAddresses as string[]).length > 0)
      .slice(0, 19);
    const requests = [...mailboxes, noMailbox].map((u, i) => ({
      id: String(i + 1),
      method: 'GET',
      url: purposeUrl(u.id),
    }));
    expect(requests).toHaveLength(20);
    emu.resetStats();
    const b = await batch(requests);
    expect(b.status).toBe(200);
    mailboxes.forEach((u, i) => {
      const r = b.byId.get(String(i + 1))!;
      expect(r.status).toBe(200);
      expect(r.headers['Content-Type']).toMatch(/^application\/json/);
      expect(r.body).toEqual({
        '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#users('${u.id}')/mailboxSettings/userPurpose`,
        value: (u.mailboxSettings as { userPurpose?: string } | undefined)?.userPurpose ?? 'user',
      });
    });
    expect(b.byId.get('20')).toMatchObject({
      status: 404,
      body: { error: { code: 'MailboxNotEnabledForRESTAPI' } },
    });
    expect(emu.stats().byPath['GET /v1.0/users/{id}/mailboxSettings/userPurpose ($batch)']).toBe(20);
  });

  it('throttles items individually when the resource-unit budget runs out, the batch still 200', async () => {
    // 2 RU per /users item (docs/graph-facts.md §5.2): a 10 RU budget lets five through.
    const small = await startEmulator({ users: 10, groups: 1, seed: 14, resourceUnitQuota: 10 });
    try {
      const smallAgent = trustingAgent(small);
      const t = await tokenFor(small, appNamed(small, 'entrasync-sync'), smallAgent);
      const ids = small.tenant.listUsers().map((u) => u.id);
      const requests = Array.from({ length: 8 }, (_, i) => ({
        id: String(i + 1),
        method: 'GET',
        url: purposeUrl(ids[i % ids.length]!),
      }));
      const b = await batch(requests, t, small, smallAgent);
      expect(b.status).toBe(200);
      const statuses = requests.map((r) => b.byId.get(r.id)!.status);
      expect(statuses.filter((s) => s === 429)).toHaveLength(3);
      for (const r of requests) {
        const item = b.byId.get(r.id)!;
        if (item.status === 429) expect(Number(item.headers['Retry-After'])).toBeGreaterThan(0);
      }
    } finally {
      await small.close();
    }
  });

  it("fails only the chosen items with failNext({on:'batch-item', urlContains}), and never plain requests", async () => {
    emu.resetStats();
    emu.failNext({ on: 'batch-item', status: 429, retryAfter: 3, urlContains: shared.id });
    expect((await get(purposeUrl(shared.id))).status).toBe(200);
    const requests = [person, shared].map((u, i) => ({
      id: String(i + 1),
      method: 'GET',
      url: purposeUrl(u.id),
    }));
    const first = await batch(requests);
    expect(first.status).toBe(200);
    expect(first.byId.get('1')!.status).toBe(200);
    expect(first.byId.get('2')).toMatchObject({
      status: 429,
      headers: { 'Retry-After': '3' },
      body: { error: { code: 'TooManyRequests' } },
    });
    expect(emu.stats().faults).toBe(1);
    const retried = await batch([requests[1]!]);
    expect(retried.byId.get('2')).toMatchObject({ status: 200, body: { value: 'shared' } });
    // On 'graph' it narrows a fault on plain HTTP requests the same way.
    emu.failNext({ on: 'graph', status: 503, urlContains: `/users/${shared.id}/` });
    expect((await get(purposeUrl(person.id))).status).toBe(200);
    expect((await get(purposeUrl(shared.id))).status).toBe(503);
    // Without urlContains it strikes the next items in order, `count` of them.
    emu.failNext({ on: 'batch-item', status: 503, count: 1 });
    const next = await batch(requests);
    expect([next.byId.get('1')!.status, next.byId.get('2')!.status]).toEqual([503, 200]);
  });

  it('refuses a fault that cannot strike: urlContains on the token endpoint, an unknown target', () => {
    expect(() => emu.failNext({ on: 'token', status: 429, urlContains: 'x' })).toThrow(/Graph faults only/);
    expect(() => emu.failNext({ on: 'item' as never, status: 429 })).toThrow(/batch-item/);
  });
});

describe('mailboxSettings outside lists and delta', () => {
  it('is in no list or delta answer, and a $select of it on a collection is 501', async () => {
    const list = await get('/users?$top=999&$select=id,mail,accountEnabled');
    expect(list.body.value.length).toBeGreaterThan(200);
    expect(list.body.value.some((u: Obj) => 'mailboxSettings' in u)).toBe(false);
    const delta = await get('/users/delta');
    expect(delta.body.value.some((u: Obj) => 'mailboxSettings' in u)).toBe(false);
    const groupId = emu.tenant.listGroups()[0]!.id;
    for (const path of [
      '/users?$select=id,mailboxSettings',
      '/users/delta?$select=id,mailboxSettings',
      `/groups/${groupId}/members?$select=id,mailboxSettings`,
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(501);
      expect(res.body.error.code).toBe('NotImplemented');
    }
  });

  it('is not change-tracked: a new purpose alone puts nobody in the next delta round', async () => {
    let link: string | undefined = '/users/delta?$select=id,accountEnabled';
    let deltaLink = '';
    while (link) {
      const page = await get(link);
      link = page.body['@odata.nextLink'];
      deltaLink = page.body['@odata.deltaLink'] ?? deltaLink;
    }
    emu.tenant.updateUser(shared.id, { mailboxSettings: { userPurpose: 'room' } });
    expect((await get(deltaLink)).body.value).toEqual([]);
    expect((await get(purposeUrl(shared.id))).body.value).toBe('room');
    emu.tenant.updateUser(shared.id, { mailboxSettings: { userPurpose: 'shared' }, accountEnabled: false });
    expect((await get(deltaLink)).body.value.map((u: Obj) => u.id)).toEqual([shared.id]);
  });

  it('refuses a purpose that is not in the userPurpose enum', () => {
    expect(() => emu.tenant.addUser({ mailboxSettings: { userPurpose: 'mailbox' } })).toThrow(/userPurpose/);
    expect(() => emu.tenant.updateUser(shared.id, { mailboxSettings: { purpose: 'room' } })).toThrow(
      /no property 'purpose'/,
    );
  });
});

describe('generated mailbox kinds', () => {
  const purposeOf = (u: GraphObject) =>
    (u.mailboxSettings as { userPurpose?: string } | undefined)?.userPurpose ??
    (u.userType === 'Member' && (u.proxyAddresses as string[]).length > 0 ? 'user' : null);

  it('has shared, room and equipment mailboxes in realistic shares, nearly all with sign-in blocked', () => {
    const t = generateTenant({ users: 20_000, groups: 10, seed: 9 });
    const share = (p: string) => t.users.filter((u) => purposeOf(u) === p).length / t.users.length;
    expect(share('shared')).toBeGreaterThan(0.012);
    expect(share('shared')).toBeLessThan(0.018);
    expect(share('room')).toBeGreaterThan(0.008);
    expect(share('room')).toBeLessThan(0.012);
    expect(share('equipment')).toBeGreaterThan(0.002);
    expect(share('equipment')).toBeLessThan(0.004);
    expect(share('linked')).toBeGreaterThan(0);
    expect(share('others')).toBeGreaterThan(0);
    const of = (p: string) => t.users.filter((u) => purposeOf(u) === p);
    expect(of('shared').every((u) => u.accountEnabled === false)).toBe(true);
    expect(of('equipment').every((u) => u.accountEnabled === false)).toBe(true);
    const roomsEnabled = of('room').filter((u) => u.accountEnabled).length / of('room').length;
    expect(roomsEnabled).toBeGreaterThan(0.02);
    expect(roomsEnabled).toBeLessThan(0.25);
    // People: about 5 % of members are leavers with sign-in blocked, their mailboxes still 'user'.
    const people = t.users.filter((u) => u.userType === 'Member' && u.givenName);
    const leavers = people.filter((u) => u.accountEnabled === false).length / people.length;
    expect(leavers).toBeGreaterThan(0.04);
    expect(leavers).toBeLessThan(0.06);
    // Every SMTP address still belongs to one object only.
    const smtp = [...t.users, ...t.groups, ...(t.contacts ?? [])].flatMap((o) => [
      ...new Set(
        (o.proxyAddresses as string[])
          .filter((p) => p.toLowerCase().startsWith('smtp:'))
          .map((p) => p.slice(5).toLowerCase()),
      ),
    ]);
    expect(new Set(smtp).size).toBe(smtp.length);
  });

  it('is deterministic per seed', () => {
    const kinds = (seed: number) => generateTenant({ users: 3000, groups: 5, seed }).users.map(purposeOf);
    expect(kinds(4)).toEqual(kinds(4));
    expect(kinds(5)).not.toEqual(kinds(4));
  });

  it('serves the generated purposes through Graph to the default sync app', async () => {
    const special = emu.tenant.listUsers().filter((u) => u.mailboxSettings);
    expect(special.length).toBeGreaterThan(0);
    const b = await batch(
      special.slice(0, 20).map((u, i) => ({ id: String(i), method: 'GET', url: purposeUrl(u.id) })),
    );
    special.slice(0, 20).forEach((u, i) => {
      expect(b.byId.get(String(i))!.body.value).toBe(
        (u.mailboxSettings as { userPurpose: string }).userPurpose,
      );
    });
  });
});
