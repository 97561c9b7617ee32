import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { App, openApp } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import { systemRuntime } from '../../src/services/clock.js';
import { DirectoryService } from '../../src/services/directory.js';
import { openStore } from '../../src/store/database.js';
import { directoryMigration } from '../../src/store/migrations/0001_directory.js';
import { syncMigration } from '../../src/store/migrations/0002_sync.js';
import { jobsMigration } from '../../src/store/migrations/0003_jobs.js';
import { recipientsMigration } from '../../src/store/migrations/0004_recipients.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

const PASSWORD = 'correct horse battery staple';
const NEW_PASSWORD = 'another horse, another battery';
const DAY = 86_400_000;

/** A signed-in browser: its cookie and CSRF token. */
interface Client {
  cookie: string;
  csrf: string;
}

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

describe.each(DATABASES)('sessions and API tokens on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  let contoso: string;
  let operator: Client;
  let admin: Client;
  // The server's clock: tests move it to expire tokens.
  let now = Date.parse('2026-03-01T09:00:00.000Z');
  let address = 0;

  const call = (client: Client | null, method: Method, url: string, payload?: unknown) =>
    server.inject({
      method,
      url,
      headers: client ? { cookie: client.cookie, 'x-csrf-token': client.csrf } : {},
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const bearer = (token: string, method: Method, url: string, payload?: unknown) =>
    server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
  const signedIn = async (client: Client) => (await call(client, 'GET', '/api/v1/auth/session')).statusCode;
  const tokensUrl = () => `/api/v1/orgs/${contoso}/api-tokens`;

  async function login(email: string, password = PASSWORD): Promise<Client> {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
      // Each sign-in from its own address, so the per-address sign-in limit stays out of the way.
      remoteAddress: `10.0.0.${++address}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrfToken };
  }

  async function addUser(email: string, role: string): Promise<string> {
    const dir = await app.directory(contoso);
    const user = await dir.addUser({ email, role }, 'test');
    await dir.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
    return user.id;
  }

  async function createToken(client: Client, body: object): Promise<LightMyRequestResponse> {
    return call(client, 'POST', tokensUrl(), body);
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }), { now: () => new Date(now), newId: () => randomUUID() });
    server = await buildServer(app);
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    operator = await login('ops@service.test');
    contoso = (await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test')).id;
    await addUser('admin@contoso.com', 'org_admin');
    admin = await login('admin@contoso.com');
  });
  afterAll(async () => {
    await server.close();
    await app.close();
    await db.drop();
  });

  describe('sessions end', () => {
    it('when users change their own password: their other sessions end, the one that changed it stays', async () => {
      const id = await addUser('self@contoso.com', 'org_admin');
      const here = await login('self@contoso.com');
      const elsewhere = await login('self@contoso.com');
      const res = await call(here, 'PUT', `/api/v1/orgs/${contoso}/users/${id}/password`, {
        password: NEW_PASSWORD,
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(await signedIn(here)).toBe(200);
      expect(await signedIn(elsewhere)).toBe(401);
      await login('self@contoso.com', NEW_PASSWORD);
    });

    it("when an org admin or an operator sets someone's password: all of that user's sessions end", async () => {
      const endId = await addUser('end@contoso.com', 'end_user');
      const end = await login('end@contoso.com');
      await call(admin, 'PUT', `/api/v1/orgs/${contoso}/users/${endId}/password`, { password: NEW_PASSWORD });
      expect(await signedIn(end)).toBe(401);
      expect(await signedIn(admin)).toBe(200);

      const again = await login('end@contoso.com', NEW_PASSWORD);
      await call(operator, 'PUT', `/api/v1/orgs/${contoso}/users/${endId}/password`, { password: PASSWORD });
      expect(await signedIn(again)).toBe(401);
      expect(await signedIn(operator)).toBe(200);
    });

    it("when an operator's password is set: that operator's sessions end", async () => {
      await app.auth.setOperatorPassword('second-ops@service.test', PASSWORD);
      const second = await login('second-ops@service.test');
      await app.auth.setOperatorPassword('second-ops@service.test', NEW_PASSWORD);
      expect(await signedIn(second)).toBe(401);
      expect(await signedIn(operator)).toBe(200);
    });

    it("when a user's role changes or the user is deleted", async () => {
      const id = await addUser('promoted@contoso.com', 'end_user');
      const promoted = await login('promoted@contoso.com');
      const res = await call(admin, 'PATCH', `/api/v1/orgs/${contoso}/users/${id}`, { role: 'org_admin' });
      expect(res.statusCode, res.body).toBe(200);
      // The session does not carry on with the new role: the user signs in again.
      expect(await signedIn(promoted)).toBe(401);
      const renamed = await login('promoted@contoso.com');
      await call(admin, 'PATCH', `/api/v1/orgs/${contoso}/users/${id}`, { displayName: 'Still admin' });
      expect(await signedIn(renamed)).toBe(200);
      await call(admin, 'DELETE', `/api/v1/orgs/${contoso}/users/${id}`);
      expect(await signedIn(renamed)).toBe(401);
    });

    it('everywhere on "sign out everywhere", for that account only', async () => {
      await addUser('everywhere@contoso.com', 'end_user');
      const laptop = await login('everywhere@contoso.com');
      const phone = await login('everywhere@contoso.com');
      const noCsrf = await server.inject({
        method: 'POST',
        url: '/api/v1/auth/logout-all',
        headers: { cookie: laptop.cookie },
      });
      expect(noCsrf.statusCode).toBe(403);
      const res = await call(laptop, 'POST', '/api/v1/auth/logout-all');
      expect(res.statusCode, res.body).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/entrasync_session=;/);
      expect(await signedIn(laptop)).toBe(401);
      expect(await signedIn(phone)).toBe(401);
      expect(await signedIn(admin)).toBe(200);
      const signedOut = await call(laptop, 'POST', '/api/v1/auth/logout-all');
      expect(signedOut.statusCode).toBe(401);
    });
  });

  describe('API tokens', () => {
    it('expire after 90 days by default, or after expiresInDays (1 to 365)', async () => {
      const byDefault = await createToken(admin, { name: 'default' });
      expect(byDefault.statusCode, byDefault.body).toBe(201);
      expect(byDefault.json().expiresAt).toBe(new Date(now + 90 * DAY).toISOString());
      const month = await createToken(admin, { name: 'month', expiresInDays: 30 });
      expect(month.json().expiresAt).toBe(new Date(now + 30 * DAY).toISOString());
      const year = await createToken(admin, { name: 'year', expiresInDays: 365 });
      expect(year.statusCode).toBe(201);
      for (const expiresInDays of [0, 366, 1.5]) {
        const res = await createToken(admin, { name: 'bad', expiresInDays });
        expect(res.statusCode, `${expiresInDays}`).toBe(400);
      }
    });

    it('are refused with 401 and a sentence once expired', async () => {
      const created = (await createToken(admin, { name: 'short', expiresInDays: 1 })).json();
      expect((await bearer(created.token, 'GET', `/api/v1/orgs/${contoso}/users`)).statusCode).toBe(200);
      const before = now;
      now += DAY;
      try {
        const res = await bearer(created.token, 'GET', `/api/v1/orgs/${contoso}/users`);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.message).toBe(
          `The API token "short" expired on ${created.expiresAt}: create a new one.`,
        );
      } finally {
        now = before;
      }
    });

    it('are listed with their expiry and last use, never with the token', async () => {
      const created = (await createToken(admin, { name: 'listed', expiresInDays: 7 })).json();
      const find = async () =>
        (await call(admin, 'GET', tokensUrl())).json().find((t: { id: string }) => t.id === created.id);
      expect(await find()).toMatchObject({
        name: 'listed',
        createdBy: 'admin@contoso.com',
        expiresAt: created.expiresAt,
        lastUsedAt: null,
        canCreateTokens: false,
      });
      await bearer(created.token, 'GET', `/api/v1/orgs/${contoso}`);
      expect((await find()).lastUsedAt).toBe(new Date(now).toISOString());
      expect((await call(admin, 'GET', tokensUrl())).body).not.toContain(created.token);
    });

    it('die with the account that made them: deleted, deactivated or no longer an org admin', async () => {
      for (const [email, change] of [
        ['demoted@contoso.com', { role: 'end_user' }],
        ['deactivated@contoso.com', { status: 'inactive' }],
        ['deleted@contoso.com', null],
      ] as const) {
        const id = await addUser(email, 'org_admin');
        const maker = await login(email);
        const created = (await createToken(maker, { name: `by ${email}` })).json();
        const kept = (await createToken(admin, { name: `kept for ${email}` })).json();
        expect((await bearer(created.token, 'GET', `/api/v1/orgs/${contoso}`)).statusCode).toBe(200);
        const userUrl = `/api/v1/orgs/${contoso}/users/${id}`;
        const res = change
          ? await call(admin, 'PATCH', userUrl, change)
          : await call(admin, 'DELETE', userUrl);
        expect(res.statusCode, res.body).toBe(200);
        expect((await bearer(created.token, 'GET', `/api/v1/orgs/${contoso}`)).statusCode, email).toBe(401);
        expect((await bearer(kept.token, 'GET', `/api/v1/orgs/${contoso}`)).statusCode, email).toBe(200);
        const ids = (await call(admin, 'GET', tokensUrl())).json().map((t: { id: string }) => t.id);
        expect(ids).not.toContain(created.id);
        expect(ids).toContain(kept.id);
      }
    });

    it('cannot create tokens unless created with canCreateTokens', async () => {
      const plain = (await createToken(admin, { name: 'plain' })).json();
      const refused = await bearer(plain.token, 'POST', tokensUrl(), { name: 'child' });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().error.message).toMatch(/may not create tokens/);

      const id = await addUser('minter@contoso.com', 'org_admin');
      const minter = await login('minter@contoso.com');
      const parent = (
        await createToken(minter, { name: 'minting', canCreateTokens: true, expiresInDays: 10 })
      ).json();
      const child = await bearer(parent.token, 'POST', tokensUrl(), { name: 'child', expiresInDays: 90 });
      expect(child.statusCode, child.body).toBe(201);
      // A token's tokens cannot outlive it.
      expect(child.json().expiresAt).toBe(parent.expiresAt);
      const listed = (await call(admin, 'GET', tokensUrl())).json();
      expect(listed.find((t: { id: string }) => t.id === child.json().id)).toMatchObject({
        createdBy: 'token:minting',
        canCreateTokens: false,
      });
      // The child belongs to the account behind its parent, and dies with it.
      await call(admin, 'DELETE', `/api/v1/orgs/${contoso}/users/${id}`);
      expect((await bearer(child.json().token, 'GET', `/api/v1/orgs/${contoso}`)).statusCode).toBe(401);
    });
  });
});

describe.each(DATABASES)('API tokens made before the 0005 migration, on %s', (kind) => {
  it('get 90 days from the migration and die with the account named by their creator', async () => {
    const db = await createTestDatabase(kind);
    const store = openStore(db.location);
    const app = new App(store, loadConfig({ ...db.env }));
    try {
      const d = store.dialect;
      const before = new Migrator({
        db: store.db,
        provider: {
          getMigrations: async () => ({
            '0001_directory': directoryMigration(d),
            '0002_sync': syncMigration(d),
            '0003_jobs': jobsMigration(d),
            '0004_recipients': recipientsMigration(),
          }),
        },
      });
      expect((await before.migrateToLatest()).error).toBeUndefined();
      // The organization as the schema of then held it (today's service writes later columns).
      const org = { id: randomUUID() };
      const now = new Date().toISOString();
      await sql`insert into organizations (id, name, created_at) values (${org.id}, 'Contoso', ${now})`.execute(
        store.db,
      );
      await sql`insert into domains (org_id, domain, created_at) values (${org.id}, 'contoso.com', ${now})`.execute(
        store.db,
      );
      const dir = new DirectoryService(
        store,
        org.id,
        { domains: ['contoso.com'], pendingDomains: [] },
        systemRuntime,
      );
      const maker = await dir.addUser({ email: 'old-admin@contoso.com', role: 'org_admin' }, 'test');
      const tokens = await Promise.all(
        ['old-admin@contoso.com', 'cli'].map(async (createdBy) => {
          const token = `es_${randomUUID()}`;
          const hash = createHash('sha256').update(token).digest('hex');
          await sql`insert into api_tokens (id, org_id, name, token_hash, created_by, created_at)
            values (${randomUUID()}, ${org.id}, ${`by ${createdBy}`}, ${hash}, ${createdBy},
            ${new Date().toISOString()})`.execute(store.db);
          return token;
        }),
      );
      const migratedAt = Date.now();
      await migrateToLatest(store);
      const listed = await app.auth.listApiTokens(org.id);
      for (const t of listed) {
        expect(Date.parse(t.expiresAt)).toBeGreaterThanOrEqual(migratedAt + 90 * DAY);
        expect(Date.parse(t.expiresAt)).toBeLessThanOrEqual(Date.now() + 90 * DAY);
      }
      const server = await buildServer(app);
      try {
        const use = async (token: string) =>
          (
            await server.inject({
              method: 'GET',
              url: `/api/v1/orgs/${org.id}`,
              headers: { authorization: `Bearer ${token}` },
            })
          ).statusCode;
        const [adminToken, cliToken] = tokens as [string, string];
        expect(await use(adminToken)).toBe(200);
        await dir.removeUser(maker.id, 'test');
        expect(await use(adminToken)).toBe(401);
        expect(await use(cliToken)).toBe(200);
      } finally {
        await server.close();
      }
    } finally {
      await app.close();
      await db.drop();
    }
  });
});
