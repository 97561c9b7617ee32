import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { AuthService } from '../../src/services/auth.js';
import { OrganizationService } from '../../src/services/organizations.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { expectServedAsReturned, lastReturned } from '../support/served.js';

/**
 * Organizations, domains, API tokens, the audit log and the session drop nothing their service
 * returned (as test/http/contract-directory.test.ts does for the directory): each answer is
 * compared with the value the service returned, caught by a spy, so a property missing from a
 * schema in src/contract/organizations.ts or src/contract/auth.ts makes the two differ. The server
 * is built from the configuration as shipped (no permissive flag).
 */

const DOMAIN = 'organizations-contract.example';
const PASSWORD = 'correct horse battery staple';

describe.each(DATABASES)('the organizations API serves every property the service returns, on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  let operatorToken: string;
  let orgToken: string;
  let orgId: string;
  const spy = {} as Record<string, MockInstance>;

  const call = (token: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    server.inject({
      method,
      url: `/api/v1${url}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig(db.env));
    server = await buildServer(app);
    operatorToken = (await app.auth.createApiToken({ name: 'operator', orgId: null, createdBy: 'test' }))
      .token;
    for (const method of [
      'create',
      'list',
      'rename',
      'setLicensedSeats',
      'addDomain',
      'listDomains',
      'removeDomain',
      'audit',
    ] as const)
      spy[method] = vi.spyOn(OrganizationService.prototype, method);
    for (const method of ['listApiTokens', 'createApiToken', 'login'] as const)
      spy[method] = vi.spyOn(AuthService.prototype, method);

    const created = await call(operatorToken, 'POST', '/orgs', { name: 'Contract', domains: [DOMAIN] });
    await expectServedAsReturned(created, spy.create!, 201);
    orgId = created.json().id;
    orgToken = (
      await app.auth.createApiToken({ name: 'org admin', orgId, createdBy: 'test', canCreateTokens: true })
    ).token;
  });
  afterEach(() => {
    for (const s of Object.values(spy)) s.mockClear();
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await server?.close();
    await app?.close();
    await db?.drop();
  });

  it('serves the organizations, a renamed one and one with its licence set', async () => {
    await expectServedAsReturned(await call(operatorToken, 'GET', '/orgs'), spy.list!);
    await expectServedAsReturned(
      await call(orgToken, 'PATCH', `/orgs/${orgId}`, { name: 'Contract renamed' }),
      spy.rename!,
    );
    const licensed = await expectServedAsReturned(
      await call(operatorToken, 'PATCH', `/orgs/${orgId}`, { licensedSeats: 25 }),
      spy.setLicensedSeats!,
    );
    expect(licensed.licensedSeats).toBe(25);
  });

  it('serves domains proven and pending, a pending one with the record to publish', async () => {
    // An organization admin's claim waits for its proof; an operator's word makes a domain count.
    const claimed = await expectServedAsReturned(
      await call(orgToken, 'POST', `/orgs/${orgId}/domains`, { domain: `pending.${DOMAIN}` }),
      spy.addDomain!,
    );
    expect(claimed.pendingDomains).toEqual([`pending.${DOMAIN}`]);
    await expectServedAsReturned(
      await call(operatorToken, 'POST', `/orgs/${orgId}/domains`, { domain: `proven.${DOMAIN}` }),
      spy.addDomain!,
    );
    const entries = await expectServedAsReturned(
      await call(orgToken, 'GET', `/orgs/${orgId}/domains`),
      spy.listDomains!,
    );
    const pending = entries.find((e: { domain: string }) => e.domain === `pending.${DOMAIN}`);
    expect(pending.txtRecord).toMatchObject({ type: 'TXT' });
    expect(entries.find((e: { domain: string }) => e.domain === `proven.${DOMAIN}`).provenBy).toBe(
      'operator',
    );
    await expectServedAsReturned(
      await call(orgToken, 'DELETE', `/orgs/${orgId}/domains/pending.${DOMAIN}`),
      spy.removeDomain!,
    );
  });

  it('serves a new token once, and the token list without it', async () => {
    const made = await call(orgToken, 'POST', `/orgs/${orgId}/api-tokens`, { name: 'ci', expiresInDays: 7 });
    await expectServedAsReturned(made, spy.createApiToken!, 201);
    const listed = await expectServedAsReturned(
      await call(orgToken, 'GET', `/orgs/${orgId}/api-tokens`),
      spy.listApiTokens!,
    );
    expect(listed.map((t: { name: string }) => t.name)).toContain('ci');
    expect(JSON.stringify(listed)).not.toContain(made.json().token);
  });

  it('serves the audit log with its labels and details', async () => {
    const entries = await expectServedAsReturned(
      await call(orgToken, 'GET', `/orgs/${orgId}/audit?limit=50`),
      spy.audit!,
    );
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.some((e: { detail: unknown }) => e.detail !== null)).toBe(true);
  });

  it('serves the session a sign-in opened, and the same session when asked', async () => {
    await app.auth.setOperatorPassword(`ops@${DOMAIN}`, PASSWORD);
    const login = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: `ops@${DOMAIN}`, password: PASSWORD },
    });
    expect(login.statusCode, login.body).toBe(200);
    const { session } = (await lastReturned(spy.login!)) as { session: unknown };
    expect(login.json()).toEqual(session);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const again = await server.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } });
    expect(again.json()).toEqual(session);
    expect(again.json().principal).toMatchObject({ type: 'operator', email: `ops@${DOMAIN}` });
  });
});
