/**
 * The tenant's domains: GET /domains and /domains/{id} as Graph serves them (domain-list,
 * domain-get), verified and unverified domains, and how tests stage "the customer added the
 * domain in Entra" and "… verified it" through the admin API and the programmatic one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Emulator,
  type EmulatorApp,
  generateTenant,
  loadTenantFile,
  startEmulator,
} from '../../src/emulator/index.js';
import { graphGet, tokenFor, trustingAgent } from './support.js';

let emu: Emulator;
let agent: ReturnType<typeof trustingAgent>;
/** A token of the generated sync app, which is granted Domain.Read.All. */
let token: string;
beforeAll(async () => {
  // Seed 1: contoso.com (default), fabrikam.com, contoso.onmicrosoft.com; plus one never verified.
  const tenant = { ...generateTenant({ users: 5, groups: 1, seed: 1 }), unverifiedDomains: ['contoso.org'] };
  emu = await startEmulator({ tenant, throttle: false });
  agent = trustingAgent(emu);
  token = await tokenFor(emu, appNamed('entrasync-sync'), agent);
});
afterAll(() => emu?.close());

function appNamed(name: string): EmulatorApp {
  const app = emu.info.apps.find((a) => a.displayName === name);
  if (!app) throw new Error(`no app named ${name}`);
  return app;
}

async function admin(method: string, path: string, body?: unknown) {
  const res = await fetch(`${emu.info.adminUrl}${path}`, {
    method,
    dispatcher: agent,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** What `/domains?$select=id,isVerified` lists now. */
async function verifiedness(): Promise<Array<[string, boolean]>> {
  const res = await graphGet(emu, agent, token, '/domains?$select=id,isVerified');
  expect(res.status).toBe(200);
  return res.body.value.map((d: { id: string; isVerified: boolean }) => [d.id, d.isVerified]);
}

/** A verified domain as a real tenant's answer shows it (properties in that answer's order). */
const verified = (id: string, extra: { isDefault?: boolean; initial?: boolean } = {}) => ({
  authenticationType: 'Managed',
  availabilityStatus: null,
  id,
  isAdminManaged: true,
  isDefault: extra.isDefault ?? false,
  isInitial: extra.initial ?? false,
  isRoot: true,
  isVerified: true,
  supportedServices: extra.initial ? ['Email', 'OfficeCommunicationsOnline'] : ['Email'],
  passwordValidityPeriodInDays: 2147483647,
  passwordNotificationWindowInDays: 14,
  state: null,
});

describe('GET /domains', () => {
  it('lists every domain, verified or not, with the properties Graph returns', async () => {
    const res = await graphGet(emu, agent, token, '/domains');
    expect(res.status).toBe(200);
    expect(res.body['@odata.context']).toBe(`${emu.info.graphBaseUrl}/v1.0/$metadata#domains`);
    expect(res.body['@odata.nextLink']).toBeUndefined();
    expect(res.body.value).toEqual([
      verified('contoso.com', { isDefault: true }),
      verified('fabrikam.com'),
      verified('contoso.onmicrosoft.com', { initial: true }),
      {
        authenticationType: 'Managed',
        availabilityStatus: null,
        id: 'contoso.org',
        isAdminManaged: true,
        isDefault: false,
        isInitial: false,
        isRoot: false,
        isVerified: false,
        supportedServices: [],
        passwordValidityPeriodInDays: null,
        passwordNotificationWindowInDays: null,
        state: null,
      },
    ]);
    expect(Object.keys(res.body.value[0])).toEqual(Object.keys(verified('x')));
  });

  it('honours $select (names in any case, answered in the schema spelling), and refuses unknown ones', async () => {
    const res = await graphGet(emu, agent, token, '/domains?$select=ID,isverified');
    expect(res.body['@odata.context']).toBe(`${emu.info.graphBaseUrl}/v1.0/$metadata#domains(id,isVerified)`);
    expect(res.body.value[3]).toEqual({ id: 'contoso.org', isVerified: false });
    const other = await graphGet(emu, agent, token, '/domains?$select=model,state');
    expect(other.body.value[0]).toEqual({ model: null, state: null });
    const bad = await graphGet(emu, agent, token, '/domains?$select=id,isProven');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({
      code: 'BadRequest',
      message: "Could not find a property named 'isProven' on type 'microsoft.graph.domain'.",
    });
  });

  it('refuses query options it does not emulate rather than ignoring them', async () => {
    const res = await graphGet(emu, agent, token, '/domains?$filter=isVerified%20eq%20true');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('Request_UnsupportedQuery');
  });

  it('GET /domains/{id}: one domain by its name in any case; 404 for a domain the tenant lacks', async () => {
    const one = await graphGet(emu, agent, token, '/domains/Contoso.ORG?$select=id,isVerified');
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#domains(id,isVerified)/$entity`,
      id: 'contoso.org',
      isVerified: false,
    });
    const whole = await graphGet(emu, agent, token, '/domains/contoso.com');
    expect(whole.body).toEqual({
      '@odata.context': `${emu.info.graphBaseUrl}/v1.0/$metadata#domains/$entity`,
      ...verified('contoso.com', { isDefault: true }),
    });
    const missing = await graphGet(emu, agent, token, '/domains/tailspin.com');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('Request_ResourceNotFound');
    expect(
      (await graphGet(emu, agent, token, '/domains/contoso.com/serviceConfigurationRecords')).status,
    ).toBe(400);
  });

  it.each(['Domain.Read.All', 'Domain.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'])(
    '%s may read domains',
    async (role) => {
      const app = emu.tenant.addApp({ roles: [role], displayName: `domains via ${role}` });
      const res = await graphGet(emu, agent, await tokenFor(emu, app, agent), '/domains?$select=id');
      expect(res.status).toBe(200);
      expect(res.body.value).toHaveLength(4);
    },
  );

  it('without one of those permissions: 403 Authorization_RequestDenied, like every directory route', async () => {
    // The directory-only app: User.Read.All and GroupMember.Read.All, and no more.
    const other = await tokenFor(emu, appNamed('entrasync-directory-only'), agent);
    for (const path of ['/domains', '/domains/contoso.com']) {
      const res = await graphGet(emu, agent, other, path);
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({
        code: 'Authorization_RequestDenied',
        message: 'Insufficient privileges to complete the operation.',
      });
    }
    const none = await tokenFor(emu, appNamed('entrasync-no-consent'), agent);
    expect((await graphGet(emu, agent, none, '/domains')).status).toBe(403);
  });

  it('an unverified domain is no name of the tenant: not in /organization, not for sign-in', async () => {
    const reader = await tokenFor(emu, emu.tenant.addApp({ roles: ['Directory.Read.All'] }), agent);
    const org = await graphGet(emu, agent, reader, '/organization');
    expect(org.body.value[0].verifiedDomains.map((d: { name: string }) => d.name)).toEqual([
      'contoso.com',
      'fabrikam.com',
      'contoso.onmicrosoft.com',
    ]);
    const discovery = await fetch(
      `${emu.info.authorityHost}/contoso.org/v2.0/.well-known/openid-configuration`,
      {
        dispatcher: agent,
      },
    );
    expect(discovery.status).toBe(400);
    expect(emu.info.tenantDomains).not.toContain('contoso.org');
  });
});

describe('staging domains', () => {
  it('admin API: a domain added unverified, then verified, as Graph, /organization and sign-in see it', async () => {
    const added = await admin('POST', '/domains', { name: 'northwind.example' });
    expect(added).toEqual({ status: 201, body: { name: 'northwind.example', verified: false } });
    expect(await verifiedness()).toContainEqual(['northwind.example', false]);
    expect((await admin('GET', '/domains')).body).toContainEqual({
      name: 'northwind.example',
      verified: false,
    });

    const proven = await admin('POST', '/domains/Northwind.Example/verify');
    expect(proven).toEqual({ status: 200, body: { name: 'northwind.example', verified: true } });
    expect(await verifiedness()).toContainEqual(['northwind.example', true]);
    const reader = await tokenFor(emu, emu.tenant.addApp({ roles: ['Organization.Read.All'] }), agent);
    const org = await graphGet(emu, agent, reader, '/organization');
    expect(org.body.value[0].verifiedDomains).toContainEqual({
      capabilities: 'Email',
      isDefault: false,
      isInitial: false,
      name: 'northwind.example',
      type: 'Managed',
    });
    expect(emu.info.tenantDomains).toContain('northwind.example');
    expect((await admin('GET', '/info')).body.tenantDomains).toContain('northwind.example');
    const discovery = await fetch(
      `${emu.info.authorityHost}/northwind.example/v2.0/.well-known/openid-configuration`,
      { dispatcher: agent },
    );
    expect(discovery.status).toBe(200);
    // Verifying again changes nothing.
    expect((await admin('POST', '/domains/northwind.example/verify')).status).toBe(200);
  });

  it('admin API: a domain added as verified at once; the mistakes a test can make are refused', async () => {
    expect(await admin('POST', '/domains', { name: 'wingtip.example', verified: true })).toEqual({
      status: 201,
      body: { name: 'wingtip.example', verified: true },
    });
    expect(await verifiedness()).toContainEqual(['wingtip.example', true]);
    expect((await admin('POST', '/domains', { name: 'WINGTIP.example' })).status).toBe(409);
    expect((await admin('POST', '/domains', { name: 'not a domain' })).status).toBe(400);
    expect((await admin('POST', '/domains', { name: 'localhost' })).status).toBe(400);
    expect((await admin('POST', '/domains', { name: 'other.onmicrosoft.com' })).status).toBe(400);
    expect((await admin('POST', '/domains', { name: 'x.example', verified: 'yes' })).status).toBe(400);
    expect((await admin('POST', '/domains', {})).status).toBe(400);
    expect((await admin('POST', '/domains/nosuch.example/verify')).status).toBe(404);
  });

  it('programmatic API: addDomain, verifyDomain, listDomains', async () => {
    expect(emu.tenant.addDomain('litware.example')).toEqual({ name: 'litware.example', verified: false });
    expect(emu.tenant.listDomains()).toContainEqual({ name: 'litware.example', verified: false });
    expect(await verifiedness()).toContainEqual(['litware.example', false]);
    expect(emu.tenant.verifyDomain('litware.example')).toEqual({ name: 'litware.example', verified: true });
    expect(await verifiedness()).toContainEqual(['litware.example', true]);
    expect(emu.tenant.addDomain('margies.example', { verified: true }).verified).toBe(true);
    expect(() => emu.tenant.verifyDomain('nosuch.example')).toThrow(/not a domain of the tenant/);
    // The default stays the tenant's first verified domain, whatever was verified since.
    expect((await verifiedness())[0]).toEqual(['contoso.com', true]);
    expect(emu.info.tenantDomains[0]).toBe('contoso.com');
  });

  it('a tenant file may list unverified domains', () => {
    const dir = mkdtempSync(join(tmpdir(), 'entrasync-domains-'));
    try {
      const file = join(dir, 'tenant.json');
      const data = generateTenant({ users: 1, groups: 0, seed: 3 });
      writeFileSync(file, JSON.stringify({ ...data, unverifiedDomains: ['pending.example'] }));
      expect(loadTenantFile(file)).toMatchObject({
        domains: data.domains,
        unverifiedDomains: ['pending.example'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
