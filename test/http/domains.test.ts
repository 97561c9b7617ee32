import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { DomainEntry } from '../../src/directory/model.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';

const PASSWORD = 'correct horse battery staple';

interface Client {
  cookie: string;
  csrf: string;
}

// The server as shipped (custom clouds off), asking a DNS server of the test's own for TXT records.
describe.each(DATABASES)('domains proven before they count, on %s', (kind) => {
  let db: TestDatabase;
  let dns: TestDnsServer;
  let emu: Emulator;
  let app: App;
  let server: FastifyInstance;
  let operator: Client;
  let contosoAdmin: Client;
  let fabrikamAdmin: Client;
  let contoso: string;
  let fabrikam: string;

  const call = (
    client: Client | null,
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    payload?: object,
  ): Promise<LightMyRequestResponse> =>
    server.inject({
      method,
      url: `/api/v1${url}`,
      headers: client ? { cookie: client.cookie, 'x-csrf-token': client.csrf } : {},
      ...(payload === undefined ? {} : { payload }),
    });

  async function login(email: string): Promise<Client> {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
    });
    expect(res.statusCode, res.body).toBe(200);
    return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrfToken };
  }

  async function admin(orgId: string, email: string): Promise<Client> {
    const dir = await app.directory(orgId);
    const user = await dir.addUser({ email, role: 'org_admin' }, 'test');
    await dir.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
    return login(email);
  }

  const entry = async (client: Client, orgId: string, domain: string): Promise<DomainEntry | undefined> => {
    const res = await call(client, 'GET', `/orgs/${orgId}/domains`);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json() as DomainEntry[]).find((d) => d.domain === domain);
  };

  /** Connects `orgId` to the emulated tenant; who set its endpoints decides whether its tenant may prove domains. */
  async function connectToEmulator(orgId: string, origin: { byOperator: boolean }): Promise<void> {
    const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
    await app.entraSettings(orgId).set(
      {
        tenant: emu.info.tenantId,
        clientId: syncApp.clientId,
        clientSecret: syncApp.clientSecret,
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, ...origin },
      'test',
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    dns = await startDnsServer();
    emu = await startEmulator({ users: 0, groups: 0, seed: 83, throttle: false });
    app = await openApp(loadConfig({ ...db.env, ENTRASYNC_DNS_SERVERS: `127.0.0.1:${dns.port}` }));
    server = await buildServer(app);
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    operator = await login('ops@service.test');
    contoso = (await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test')).id;
    fabrikam = (await app.orgs.create({ name: 'Fabrikam', domains: ['fabrikam.com'] }, 'test')).id;
    contosoAdmin = await admin(contoso, 'admin@contoso.com');
    fabrikamAdmin = await admin(fabrikam, 'admin@fabrikam.com');
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await emu?.close();
    await dns?.close();
    await db?.drop();
  });

  it("keeps an organization admin's domain pending: it accepts no address, by API or by name", async () => {
    const added = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains`, { domain: 'Microsoft.com' });
    expect(added.statusCode, added.body).toBe(200);
    expect(added.json()).toMatchObject({ domains: ['contoso.com'], pendingDomains: ['microsoft.com'] });

    const pending = await entry(contosoAdmin, contoso, 'microsoft.com');
    expect(pending).toMatchObject({ status: 'pending', provenBy: null, lastCheck: null });
    expect(pending?.txtRecord).toEqual({
      name: 'microsoft.com',
      type: 'TXT',
      value: expect.stringMatching(/^entrasync-verification=[0-9a-f]{32}$/),
    });

    const ceo = await call(contosoAdmin, 'POST', `/orgs/${contoso}/users`, { email: 'ceo@microsoft.com' });
    expect(ceo.statusCode).toBe(400);
    expect(ceo.json().error).toMatchObject({ code: 'invalid_input', field: 'email' });
    expect(ceo.json().error.message).toMatch(/microsoft\.com, which is pending/);
    const alias = await call(contosoAdmin, 'POST', `/orgs/${contoso}/users`, {
      email: 'ana@contoso.com',
      aliases: ['ana@microsoft.com'],
    });
    expect(alias.statusCode).toBe(400);
    expect(alias.json().error.field).toBe('aliases');

    // A pending domain does not name its organization, so it cannot be used to find one.
    await expect(app.orgs.resolve('microsoft.com')).rejects.toThrow(/No organization/);
  });

  it('lets the real owner claim a domain another organization claimed but never proved', async () => {
    const res = await call(fabrikamAdmin, 'POST', `/orgs/${fabrikam}/domains`, { domain: 'microsoft.com' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().pendingDomains).toEqual(['microsoft.com']);
    // Each claim has its own record: one organization's published value proves nothing for another.
    const mine = await entry(fabrikamAdmin, fabrikam, 'microsoft.com');
    const theirs = await entry(contosoAdmin, contoso, 'microsoft.com');
    expect(mine?.txtRecord?.value).not.toBe(theirs?.txtRecord?.value);
  });

  it('answers a domain another organization owns with "not available" only, and names the owner to an operator', async () => {
    const res = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains`, { domain: 'fabrikam.com' });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toBe('fabrikam.com is not available.');
    const byOperator = await call(operator, 'POST', `/orgs/${contoso}/domains`, { domain: 'fabrikam.com' });
    expect(byOperator.statusCode).toBe(409);
    expect(byOperator.json().error.message).toMatch(/belongs to Fabrikam/);
  });

  it('says what DNS and Entra answered when no proof is found, and keeps it as the last check', async () => {
    dns.setTxt('microsoft.com', ['v=spf1 include:spf.protection.outlook.com -all']);
    const res = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains/microsoft.com/verify`);
    expect(res.statusCode).toBe(422);
    const { code, message } = res.json().error;
    expect(code).toBe('not_proven');
    const value = (await entry(contosoAdmin, contoso, 'microsoft.com'))?.txtRecord?.value;
    expect(message).toContain(`none of the 1 TXT record(s) of microsoft.com is ${value}`);
    expect(message).toMatch(/Entra: not asked, because this organization has no Entra connection saved/);
    expect((await entry(contosoAdmin, contoso, 'microsoft.com'))?.lastCheck).toEqual({
      at: expect.any(String),
      outcome: message,
    });
    expect(dns.questions.some((q) => q.name === 'microsoft.com' && q.type === 16)).toBe(true);
  });

  it('proves a domain by its TXT record: it counts, takes addresses, and is no longer available to others', async () => {
    const value = (await entry(fabrikamAdmin, fabrikam, 'microsoft.com'))!.txtRecord!.value;
    dns.setTxt('microsoft.com', ['v=spf1 -all', value]);
    const res = await call(fabrikamAdmin, 'POST', `/orgs/${fabrikam}/domains/microsoft.com/verify`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      domain: 'microsoft.com',
      status: 'verified',
      provenBy: 'dns',
      txtRecord: null,
    });

    const org = (await call(fabrikamAdmin, 'GET', `/orgs/${fabrikam}`)).json();
    expect(org).toMatchObject({ domains: ['fabrikam.com', 'microsoft.com'], pendingDomains: [] });
    const ceo = await call(fabrikamAdmin, 'POST', `/orgs/${fabrikam}/users`, { email: 'ceo@microsoft.com' });
    expect(ceo.statusCode, ceo.body).toBe(201);

    // The other organization's claim stays in its list, and can no longer be proven or made again.
    expect((await call(contosoAdmin, 'GET', `/orgs/${contoso}`)).json().pendingDomains).toEqual([
      'microsoft.com',
    ]);
    const lost = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains/microsoft.com/verify`);
    expect(lost.statusCode).toBe(409);
    expect(lost.json().error.message).toBe('microsoft.com is not available.');
    await call(contosoAdmin, 'DELETE', `/orgs/${contoso}/domains/microsoft.com`);
    const again = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains`, { domain: 'microsoft.com' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toBe('microsoft.com is not available.');
  });

  it("counts an operator's domain at once", async () => {
    const res = await call(operator, 'POST', `/orgs/${contoso}/domains`, { domain: 'contoso.net' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().domains).toEqual(['contoso.com', 'contoso.net']);
    expect(await entry(operator, contoso, 'contoso.net')).toMatchObject({
      status: 'verified',
      provenBy: 'operator',
    });
  });

  it("proves a domain by the Entra tenant's verified domains, and skips its addresses in sync until then", async () => {
    const org = (await app.orgs.create({ name: 'Northwind', domains: ['northwind.test'] }, 'test')).id;
    const northwindAdmin = await admin(org, 'admin@northwind.test');
    // Custom endpoints (the emulator) set by an operator: their tenant may prove domains.
    await connectToEmulator(org, { byOperator: true });
    emu.tenant.addDomain('northwind-mail.test');
    emu.tenant.addUser({
      displayName: 'Pat',
      userPrincipalName: 'pat@northwind-mail.test',
      mail: 'pat@northwind-mail.test',
      proxyAddresses: ['SMTP:pat@northwind-mail.test'],
    });
    await call(northwindAdmin, 'POST', `/orgs/${org}/domains`, { domain: 'northwind-mail.test' });

    const preview = await call(northwindAdmin, 'POST', `/orgs/${org}/sync/preview`, {});
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json().skipped).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'primary_pending_domain', address: 'pat@northwind-mail.test' }),
      ]),
    );

    // Added in Entra but not verified there: not proof.
    const unverified = await call(northwindAdmin, 'POST', `/orgs/${org}/domains/northwind-mail.test/verify`);
    expect(unverified.statusCode).toBe(422);
    expect(unverified.json().error.message).toMatch(
      /Entra: the tenant .* has northwind-mail\.test but has not verified it/,
    );

    emu.tenant.verifyDomain('northwind-mail.test');
    const verified = await call(northwindAdmin, 'POST', `/orgs/${org}/domains/northwind-mail.test/verify`);
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toMatchObject({ status: 'verified', provenBy: 'entra' });
    const after = await call(northwindAdmin, 'POST', `/orgs/${org}/sync/preview`, {});
    expect(after.json().usersToAdd.map((c: { address: string }) => c.address)).toContain(
      'pat@northwind-mail.test',
    );
  });

  it('does not take the word of endpoints an organization admin chose', async () => {
    const org = (await app.orgs.create({ name: 'Tailspin', domains: ['tailspin.test'] }, 'test')).id;
    const tailspinAdmin = await admin(org, 'admin@tailspin.test');
    // As a server started with ENTRASYNC_ALLOW_CUSTOM_CLOUD=1 would let an organization admin do.
    await connectToEmulator(org, { byOperator: false });
    emu.tenant.addDomain('tailspin-mail.test', { verified: true });
    await call(tailspinAdmin, 'POST', `/orgs/${org}/domains`, { domain: 'tailspin-mail.test' });
    const res = await call(tailspinAdmin, 'POST', `/orgs/${org}/domains/tailspin-mail.test/verify`);
    expect(res.statusCode).toBe(422);
    expect(res.json().error.message).toMatch(
      /Entra: not asked, because .*custom endpoints that no operator set/,
    );
  });

  it('removes a pending domain, and refuses to verify one that was never added', async () => {
    await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains`, { domain: 'spare.example' });
    const removed = await call(contosoAdmin, 'DELETE', `/orgs/${contoso}/domains/spare.example`);
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json().pendingDomains).toEqual([]);
    const res = await call(contosoAdmin, 'POST', `/orgs/${contoso}/domains/never.example/verify`);
    expect(res.statusCode).toBe(404);
  });
});
