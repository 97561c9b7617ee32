import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

describe.each(DATABASES)('Entra settings and sync API on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  let emu: Emulator;
  let token: string;
  let orgId: string;
  const secret = () => emu.info.apps[0]!.clientSecret;

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
    server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    emu = await startEmulator({ users: 30, groups: 5, seed: 5 });
    db = await createTestDatabase(kind);
    // The server as deployed by default: tenants may not choose custom endpoints.
    app = await openApp(loadConfig({ ...db.env }));
    server = await buildServer(app);
    orgId = (await app.orgs.create({ name: 'API Org', domains: emu.info.tenantDomains.slice(0, 2) }, 'test'))
      .id;
    token = (await app.auth.createApiToken({ name: 'test', orgId, createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await server.close();
    await app.close();
    await db.drop();
    await emu.close();
  });

  it('shows an unconfigured organization with the defaults', async () => {
    const res = await call('GET', `/api/v1/orgs/${orgId}/entra-settings`);
    expect(res.json()).toMatchObject({
      configured: false,
      secret: { set: false, last4: null },
      defaultRole: 'end_user',
      what: { users: true, distribution: true, security: true },
      how: { addUsers: true, removeUsers: false },
      frequencyHours: null,
      cloud: 'global',
    });
  });

  it.each([
    [
      { tenant: 'common', clientId: '11111111-1111-4111-8111-111111111111', clientSecret: 'x~secret' },
      'tenant',
    ],
    [{ tenant: 'contoso.com', clientId: 'not-a-guid', clientSecret: 'x~secret' }, 'clientId'],
    [{ tenant: 'contoso.com', clientId: '11111111-1111-4111-8111-111111111111' }, 'clientSecret'],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: '22222222-2222-4222-8222-222222222222',
      },
      'clientSecret',
    ],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: 's',
        frequencyHours: 5,
      },
      'frequencyHours',
    ],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: 's',
        defaultRole: 'org_admin',
      },
      'defaultRole',
    ],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: 's',
        secretExpiresAt: '2027-02-30',
      },
      'secretExpiresAt',
    ],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: 's',
        cloud: 'germany',
      },
      'cloud',
    ],
    [
      {
        tenant: 'contoso.com',
        clientId: '11111111-1111-4111-8111-111111111111',
        clientSecret: 's',
        graphUrl: 'https://127.0.0.1:1',
      },
      'graphUrl',
    ],
  ])('refuses %j naming the field %s, and saves nothing', async (body, field) => {
    const res = await call('PUT', `/api/v1/orgs/${orgId}/entra-settings`, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect((await call('GET', `/api/v1/orgs/${orgId}/entra-settings`)).json().configured).toBe(false);
  });

  it('saves settings, never returns the secret, and shows the admin-consent link', async () => {
    const res = await call('PUT', `/api/v1/orgs/${orgId}/entra-settings`, {
      tenant: emu.info.tenantDomains[0],
      clientId: emu.info.apps[0]!.clientId,
      clientSecret: secret(),
      secretExpiresAt: '2027-06-30',
      defaultRole: 'silent_user',
      how: { removeUsers: true },
      frequencyHours: 6,
      // The organization still points at Microsoft, which tests never call: saved without a try.
      saveUntested: true,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).not.toContain(secret());
    expect(res.json()).toMatchObject({
      configured: true,
      secret: { set: true, last4: secret().slice(-4), expiresAt: '2027-06-30' },
      defaultRole: 'silent_user',
      how: { addUsers: true, removeUsers: true },
      frequencyHours: 6,
    });
    expect(res.json().adminConsentUrl).toContain(`client_id=${emu.info.apps[0]!.clientId}`);
    const stored = await app.store.db.selectFrom('entra_settings').selectAll().executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(secret());
  });

  it('accepts "never" (frequencyHours null) and keeps it null, not 0', async () => {
    const res = await call('PUT', `/api/v1/orgs/${orgId}/entra-settings`, { frequencyHours: null });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().frequencyHours).toBeNull();
    const back = await call('PUT', `/api/v1/orgs/${orgId}/entra-settings`, { frequencyHours: 6 });
    expect(back.json().frequencyHours).toBe(6);
  });

  it('explains a connection failure in plain words (here: nothing answers at the endpoints)', async () => {
    // Test traffic stays on loopback: an operator points the organization at a port nobody listens on.
    await app
      .entraSettings(orgId)
      .set(
        { authorityHost: 'https://127.0.0.1:1', graphUrl: 'https://127.0.0.1:1' },
        { allowCustomEndpoints: true, byOperator: true },
        'operator',
      );
    const res = await call('POST', `/api/v1/orgs/${orgId}/entra-settings/test`);
    expect(res.statusCode).toBe(200);
    const report = res.json();
    expect(report.ok).toBe(false);
    const failed = report.steps.find((s: { ok: boolean; skipped?: boolean }) => !s.ok && !s.skipped);
    expect(failed.hint).toBeTruthy();
    expect(JSON.stringify(report)).not.toContain(secret());
  });

  it('previews and executes through the API once endpoints are set by an operator', async () => {
    await app
      .entraSettings(orgId)
      .set(
        { authorityHost: emu.info.authorityHost, graphUrl: emu.info.graphBaseUrl, caPem: emu.info.caPem },
        { allowCustomEndpoints: true, byOperator: true },
        'operator',
      );
    const preview = await call('POST', `/api/v1/orgs/${orgId}/sync/preview`, { what: ['users'] });
    expect(preview.statusCode, preview.body).toBe(200);
    const p = preview.json();
    expect(p.groupsToAdd).toEqual([]);
    expect(p.usersToAdd.length).toBeGreaterThan(10);
    expect(p.usersToAdd[0].user.role).toBe('silent_user');
    const unticked = p.usersToAdd[0].id;
    const run = await call('POST', `/api/v1/orgs/${orgId}/sync/execute`, {
      planId: p.planId,
      excludedChangeIds: [unticked],
    });
    expect(run.json()).toMatchObject({
      status: 'succeeded',
      excluded: 1,
      applied: { usersToAdd: p.usersToAdd.length - 1 },
    });
    const runs = (await call('GET', `/api/v1/orgs/${orgId}/sync/runs`)).json();
    expect(runs[0]).toMatchObject({
      id: run.json().runId,
      trigger: 'manual',
      actor: 'token:test',
      status: 'succeeded',
    });
    const detail = (await call('GET', `/api/v1/orgs/${orgId}/sync/runs/${run.json().runId}`)).json();
    expect(detail.detail).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: unticked, outcome: 'excluded' })]),
    );
    const reused = await call('POST', `/api/v1/orgs/${orgId}/sync/execute`, { planId: p.planId });
    expect(reused.statusCode).toBe(400);
    expect(reused.json().error.field).toBe('planId');
  });

  it('refuses unknown words and unknown change ids', async () => {
    const bad = await call('POST', `/api/v1/orgs/${orgId}/sync/preview`, {
      how: ['add-users', 'delete-everything'],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('delete-everything');
    const p = (await call('POST', `/api/v1/orgs/${orgId}/sync/preview`, {})).json();
    const typo = await call('POST', `/api/v1/orgs/${orgId}/sync/execute`, {
      planId: p.planId,
      excludedChangeIds: ['au_nope'],
    });
    expect(typo.statusCode).toBe(400);
    expect(typo.json().error.field).toBe('excludedChangeIds');
  });
});
