import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

const PASSWORD = 'correct horse battery staple';
const CLIENT_SECRET = 'Qx8~abcdefghijklmnopqrstuvwxyz0123456789';

// docs/security.md, "What is stored, and how": no secret is stored as it was given.
describe.each(DATABASES)('what the database holds, on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;

  /** Every row of every table, as text: what someone with a copy of the database would read. */
  async function dump(): Promise<string> {
    const tables =
      app.store.dialect.name === 'sqlite'
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(
            app.store.db,
          )
        : await sql<{
            name: string;
          }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(
            app.store.db,
          );
    expect(tables.rows.length).toBeGreaterThan(10);
    const rows: unknown[] = [];
    for (const { name } of tables.rows) {
      rows.push((await sql`select * from ${sql.table(name)}`.execute(app.store.db)).rows);
    }
    return JSON.stringify(rows);
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    server = await buildServer(app);
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await db?.drop();
  });

  it('keeps passwords as argon2id hashes, sessions and API tokens as SHA-256, client secrets sealed', async () => {
    const org = await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test');
    const dir = await app.directory(org.id);
    const admin = await dir.addUser({ email: 'admin@contoso.com', role: 'org_admin' }, 'test');
    const login = async () => {
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'admin@contoso.com', password: PASSWORD },
      });
      expect(res.statusCode, res.body).toBe(200);
      return {
        cookie: String(res.headers['set-cookie']).split(';')[0]!,
        csrf: res.json().csrfToken as string,
      };
    };
    const { hashPassword } = await import('../../src/services/auth.js');
    await dir.setPasswordHash(admin.id, await hashPassword(PASSWORD), 'test');
    const session = await login();
    const headers = { cookie: session.cookie, 'x-csrf-token': session.csrf };
    const token = await server.inject({
      method: 'POST',
      url: `/api/v1/orgs/${org.id}/api-tokens`,
      headers,
      payload: { name: 'script' },
    });
    expect(token.statusCode, token.body).toBe(201);
    const settings = await server.inject({
      method: 'PUT',
      url: `/api/v1/orgs/${org.id}/entra-settings`,
      headers,
      payload: {
        tenant: 'contoso.onmicrosoft.com',
        clientId: '11111111-2222-3333-4444-555555555555',
        clientSecret: CLIENT_SECRET,
        saveUntested: true,
      },
    });
    expect(settings.statusCode, settings.body).toBe(200);
    expect(settings.body).not.toContain(CLIENT_SECRET);

    const stored = await dump();
    const sessionValue = decodeURIComponent(session.cookie.split('=')[1]!);
    for (const secret of [PASSWORD, sessionValue, token.json().token as string, CLIENT_SECRET]) {
      expect(secret.length).toBeGreaterThan(20);
      expect(stored).not.toContain(secret);
    }
    const row = await app.store.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', admin.id)
      .executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
  });
});
