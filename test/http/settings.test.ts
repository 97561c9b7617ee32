import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { buildServer } from '../../src/http/server.js';
import { AutomationService } from '../../src/jobs/automation.js';
import { type App, openApp } from '../../src/services/app.js';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

interface FieldError {
  field: string;
  message: string;
  untested?: true;
}

/**
 * The settings pages' API on the server as shipped (no ENTRASYNC_ALLOW_CUSTOM_CLOUD): an
 * organization connected to the emulator like the demo (custom endpoints set by an operator), its
 * admin saving through the API.
 */
describe.each(DATABASES)('Settings that refuse what would break the sync, on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  let emu: Emulator;
  let token: string;
  let orgId: string;
  let url: string;
  const syncApp = () => emu.info.apps[0]!;

  const call = (method: 'GET' | 'PUT' | 'POST', path: string, payload?: object) =>
    server.inject({
      method,
      url: `${url}${path}`,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload } : {}),
    });
  const refusal = (body: string) => JSON.parse(body).error as FieldError & { fields?: FieldError[] };

  beforeAll(async () => {
    emu = await startEmulator({ users: 12, groups: 3, seed: 7 });
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    expect(app.config.allowCustomCloud).toBe(false);
    server = await buildServer(app);
    orgId = (
      await app.orgs.create({ name: 'Demo-like', domains: emu.info.tenantDomains.slice(0, 2) }, 'test')
    ).id;
    url = `/api/v1/orgs/${orgId}`;
    token = (await app.auth.createApiToken({ name: 'admin', orgId, createdBy: 'test' })).token;
    // Connected as the demo is: the operator (CLI) sets the emulator's endpoints.
    await app.entraSettings(orgId).set(
      {
        tenant: emu.info.tenantId,
        clientId: syncApp().clientId,
        clientSecret: syncApp().clientSecret,
        secretExpiresAt: '2099-12-31',
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'test',
    );
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await db?.drop();
    await emu?.close();
  });

  it('takes every field resent unchanged, custom endpoints included, as no change', async () => {
    const view = (await call('GET', '/entra-settings')).json();
    const res = await call('PUT', '/entra-settings', {
      tenant: view.tenant,
      clientId: view.clientId,
      secretExpiresAt: view.secret.expiresAt,
      defaultRole: view.defaultRole,
      blockedMailboxes: view.blockedMailboxes,
      what: view.what,
      how: view.how,
      frequencyHours: view.frequencyHours,
      cloud: view.cloud,
      authorityHost: view.authorityHost,
      graphUrl: view.graphUrl,
      caPem: view.caPem,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ graphUrl: emu.info.graphBaseUrl, defaultRole: 'end_user' });
    // A changed endpoint is still refused, on its field.
    const changed = await call('PUT', '/entra-settings', { graphUrl: 'https://127.0.0.1:9' });
    expect(changed.statusCode).toBe(400);
    expect(refusal(changed.body).field).toBe('graphUrl');
  });

  it('tries a new key first: a 5-character key is refused with why, and the old key keeps working', async () => {
    const res = await call('PUT', '/entra-settings', { clientSecret: 'abcde' });
    expect(res.statusCode, res.body).toBe(400);
    const error = refusal(res.body);
    expect(error.field).toBe('clientSecret');
    expect(error.message).toMatch(/AADSTS7000215/);
    expect(error.message).toMatch(/this is not a valid key of this app/);
    expect(error.message).toMatch(/not its Secret ID/);
    expect(error.fields).toEqual([{ field: 'clientSecret', message: error.message, untested: true }]);
    const view = (await call('GET', '/entra-settings')).json();
    expect(view.secret.last4).toBe(syncApp().clientSecret.slice(-4));
    const test = await call('POST', '/entra-settings/test');
    expect(test.json().ok, test.body).toBe(true);
  });

  it('saves a key untested when asked, and a good new key after trying it', async () => {
    const untested = await call('PUT', '/entra-settings', { clientSecret: 'abcde', saveUntested: true });
    expect(untested.statusCode, untested.body).toBe(200);
    expect(untested.json().secret.last4).toBe('bcde');
    const good = await call('PUT', '/entra-settings', { clientSecret: syncApp().clientSecret });
    expect(good.statusCode, good.body).toBe(200);
    expect(good.json().secret.last4).toBe(syncApp().clientSecret.slice(-4));
    const audit = await app.store.db
      .selectFrom('audit_log')
      .select('detail')
      .where('action', '=', 'entra.settings')
      .execute();
    expect(audit.map((a) => String(a.detail)).join()).toContain('clientSecret');
  });

  it('needs at least one switch under What and under How', async () => {
    const what = await call('PUT', '/entra-settings', {
      what: { users: false, distribution: false, security: false },
    });
    expect(what.statusCode).toBe(400);
    expect(refusal(what.body).field).toBe('what');
    expect(refusal(what.body).message).toMatch(/at least one/);
    const how = await call('PUT', '/entra-settings', {
      how: {
        addUsers: false,
        updateUsers: false,
        addGroups: false,
        updateGroups: false,
        removeUsers: false,
        removeGroups: false,
      },
    });
    expect(how.statusCode).toBe(400);
    expect(refusal(how.body).field).toBe('how');
    // One switch is enough.
    const one = await call('PUT', '/entra-settings', {
      what: { users: true, distribution: false, security: false },
    });
    expect(one.statusCode, one.body).toBe(200);
    await call('PUT', '/entra-settings', { what: { users: true, distribution: true, security: true } });
  });

  it('syncs guest users only when the organization says so (off by default), from the API and the CLI', async () => {
    const domain = emu.info.tenantDomains[0]!;
    emu.tenant.addUser({
      displayName: 'Invited Partner',
      userPrincipalName: `partner_other.example#EXT#@${domain}`,
      mail: `partner@${domain}`,
      userType: 'Guest',
    });
    const guestSkipped = async () => {
      const preview = await (await app.sync(orgId)).preview({}, 'test');
      return {
        skipped: preview.skippedByReason.guest,
        added: preview.usersToAdd.some((c) => c.address === `partner@${domain}`),
      };
    };
    expect((await call('GET', '/entra-settings')).json().includeGuests).toBe(false);
    expect(await guestSkipped()).toMatchObject({ added: false });
    expect((await guestSkipped()).skipped).toBeGreaterThan(0);

    const refused = await call('PUT', '/entra-settings', { includeGuests: 'yes' });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toMatch(/includeGuests/);
    const on = await call('PUT', '/entra-settings', { includeGuests: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json().includeGuests).toBe(true);
    expect(await guestSkipped()).toEqual({ skipped: 0, added: true });

    const cli = await entrasync(['entra', 'set', '--org', orgId, '--guests', 'skip'], db.env);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain('guests:        skipped');
    expect((await app.entraSettings(orgId).get()).includeGuests).toBe(false);
    const bad = await entrasync(['entra', 'set', '--org', orgId, '--guests', 'maybe'], db.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--guests/);
  });

  it('refuses a key expiry date in the past with a sentence', async () => {
    const res = await call('PUT', '/entra-settings', { secretExpiresAt: '2020-01-01' });
    expect(res.statusCode).toBe(400);
    const error = refusal(res.body);
    expect(error.field).toBe('secretExpiresAt');
    expect(error.message).toMatch(/^The key expiry date 2020-01-01 is in the past/);
    expect((await call('GET', '/entra-settings')).json().secret.expiresAt).toBe('2099-12-31');
  });

  it('lists every bad field at once, "required" for empty ones, and saves nothing', async () => {
    const res = await call('PUT', '/entra-settings', {
      tenant: '',
      clientId: ' ',
      secretExpiresAt: '2020-01-01',
      what: { users: false, distribution: false, security: false },
      frequencyHours: 5,
      clientSecret: 'abcde',
    });
    expect(res.statusCode).toBe(400);
    const error = refusal(res.body);
    expect(error.fields?.map((f) => f.field)).toEqual([
      'tenant',
      'clientId',
      'secretExpiresAt',
      'what',
      'frequencyHours',
    ]);
    expect(error.field).toBe('tenant');
    expect(error.message).toBe(error.fields?.[0]?.message);
    expect(error.fields?.[0]?.message).toMatch(/^The primary domain \(tenant\) is required/);
    expect(error.fields?.[1]?.message).toBe(
      'The client ID is required: the Application (client) ID of the app registration.',
    );
    expect(JSON.stringify(error)).not.toContain('"" is not');
    const view = (await call('GET', '/entra-settings')).json();
    expect(view).toMatchObject({ tenant: emu.info.tenantId, clientId: syncApp().clientId });
    expect(view.secret.last4).toBe(syncApp().clientSecret.slice(-4));
  });

  it('says so when Entra cannot be reached to try a new key, and saves it only untested', async () => {
    const other = await app.orgs.create({ name: 'Unreachable', domains: ['unreachable.example'] }, 'test');
    await app.entraSettings(other.id).set(
      {
        tenant: 'unreachable.example',
        clientId: syncApp().clientId,
        clientSecret: 'first~key',
        // A loopback port nothing listens on: refused at once.
        authorityHost: 'https://127.0.0.1:9',
        graphUrl: 'https://127.0.0.1:9',
      },
      { allowCustomEndpoints: true, byOperator: true },
      'test',
    );
    const otherToken = (await app.auth.createApiToken({ name: 'o', orgId: other.id, createdBy: 'test' }))
      .token;
    const put = (payload: object) =>
      server.inject({
        method: 'PUT',
        url: `/api/v1/orgs/${other.id}/entra-settings`,
        headers: { authorization: `Bearer ${otherToken}` },
        payload,
      });
    const refused = await put({ clientSecret: 'second~key' });
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refusal(refused.body)).toMatchObject({ field: 'clientSecret' });
    expect(refusal(refused.body).message).toMatch(/^Entra could not be reached to try this key/);
    expect(refusal(refused.body).fields?.[0]?.untested).toBe(true);
    const saved = await put({ clientSecret: 'second~key', saveUntested: true });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().secret.last4).toBe('~key');
  });

  describe('Automatic sync', () => {
    it('shows a webhook this server never posts to, and takes it resent unchanged', async () => {
      // Saved before the CLI kept the server's rule (it allowed any URL).
      await new AutomationService(app, orgId, true).set({ webhookUrl: 'http://127.0.0.1:9/hook' }, 'cli');
      const view = (await call('GET', '/automation')).json();
      expect(view.webhook.url).toBe('http://127.0.0.1:9/hook');
      expect(view.webhook.undeliverable).toMatch(/must use https.*never posts to it/);
      const res = await call('PUT', '/automation', {
        safeguardPercent: 20,
        safeguardMinUsers: view.safeguard.minUsers,
        webhookUrl: view.webhook.url,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().safeguard.percent).toBe(20);
    });

    it('lists every bad field at once', async () => {
      const res = await call('PUT', '/automation', {
        safeguardPercent: 150,
        safeguardMinUsers: 0,
        webhookUrl: 'http://hooks.example.com/x',
        webhookSecret: 'short',
      });
      expect(res.statusCode).toBe(400);
      expect(refusal(res.body).fields?.map((f) => f.field)).toEqual([
        'safeguardPercent',
        'safeguardMinUsers',
        'webhookUrl',
        'webhookSecret',
      ]);
      expect((await call('GET', '/automation')).json().safeguard.percent).toBe(20);
    });

    it('the CLI refuses (exit 2) a webhook the server would never post to, as the console does', async () => {
      const env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '' };
      const cli = await entrasync(
        ['automation', 'set', '--org', orgId, '--webhook-url', 'http://hooks.example.com/x'],
        env,
      );
      expect(cli.code, cli.stderr).toBe(2);
      expect(cli.stderr).toMatch(/must use https/);
      const api = await call('PUT', '/automation', { webhookUrl: 'http://hooks.example.com/x' });
      expect(refusal(api.body).message).toBe(cli.stderr.replace(/^entrasync: (webhookUrl: )?/, '').trim());
    });

    it('the CLI prints each refused field on its own line', async () => {
      const env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '' };
      const cli = await entrasync(
        ['entra', 'set', '--org', orgId, '--secret-expires', '2020-01-01', '--what', 'none', '--how', 'none'],
        env,
      );
      expect(cli.code, cli.stderr).toBe(2);
      const lines = cli.stderr.trim().split('\n');
      expect(lines).toHaveLength(3);
      expect(lines[0]).toMatch(/^entrasync: secretExpiresAt: The key expiry date 2020-01-01 is in the past/);
      expect(lines[1]).toMatch(/^entrasync: what: Choose at least one/);
      expect(lines[2]).toMatch(/^entrasync: how: Choose at least one/);
    });
  });
});
