import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

const PASSWORD = 'correct horse battery staple';
const DAY = 86_400_000;

interface TokenJson {
  id: string;
  name: string;
  orgId: string | null;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  canCreateTokens: boolean;
}

describe.each(DATABASES)('entrasync tokens and passwords on %s', (kind) => {
  let db: TestDatabase;
  // A server over the same database, to sign in and to use tokens the CLI made.
  let app: App;
  let server: FastifyInstance;
  let address = 0;
  const run = (args: string[], input?: string) => entrasync(args, db.env, input);

  async function login(email: string): Promise<string> {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
      remoteAddress: `10.0.1.${++address}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    return String(res.headers['set-cookie']).split(';')[0]!;
  }
  const signedIn = async (cookie: string) =>
    (await server.inject({ method: 'GET', url: '/api/v1/auth/session', headers: { cookie } })).statusCode;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    server = await buildServer(app);
    const org = await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test');
    const dir = await app.directory(org.id);
    const user = await dir.addUser({ email: 'admin@contoso.com', role: 'org_admin' }, 'test');
    await dir.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
  });
  afterAll(async () => {
    await server.close();
    await app.close();
    await db.drop();
  });

  it('creates tokens that expire after --expires-in-days (default 90, at most 365)', async () => {
    const before = Date.now();
    const month = await run([
      'tokens',
      'create',
      '--name',
      'export',
      '--org',
      'contoso.com',
      '--expires-in-days',
      '30',
      '--json',
    ]);
    expect(month.code, month.stderr).toBe(0);
    const expires = Date.parse(month.json<{ expiresAt: string }>().expiresAt);
    expect(expires).toBeGreaterThanOrEqual(before + 30 * DAY);
    expect(expires).toBeLessThanOrEqual(Date.now() + 30 * DAY);

    const byDefault = await run(['tokens', 'create', '--name', 'ops', '--json']);
    expect(Date.parse(byDefault.json<{ expiresAt: string }>().expiresAt)).toBeGreaterThanOrEqual(
      before + 90 * DAY,
    );

    for (const days of ['366', '0', 'soon']) {
      const refused = await run(['tokens', 'create', '--name', 'bad', '--expires-in-days', days]);
      expect(refused.code, days).toBe(2);
      expect(refused.stderr, days).toMatch(/days/);
    }
  });

  it('lists tokens with their expiry and last use, and revokes them', async () => {
    const created = (
      await run(['tokens', 'create', '--name', 'nightly', '--org', 'contoso.com', '--json'])
    ).json<{ id: string; token: string; expiresAt: string }>();
    const used = await server.inject({
      method: 'GET',
      url: '/api/v1/orgs/contoso.com',
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(used.statusCode).toBe(200);

    const list = await run(['tokens', 'list', '--org', 'contoso.com', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).not.toContain(created.token);
    const row = list.json<TokenJson[]>().find((t) => t.id === created.id);
    expect(row).toMatchObject({ name: 'nightly', createdBy: 'cli', expiresAt: created.expiresAt });
    expect(row?.lastUsedAt).not.toBeNull();
    const text = await run(['tokens', 'list', '--org', 'contoso.com']);
    expect(text.stdout).toMatch(/expiresAt/);
    expect(text.stdout).toContain(created.expiresAt);

    const revoked = await run(['tokens', 'revoke', '--org', 'contoso.com', '--id', created.id, '--json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    const after = await server.inject({
      method: 'GET',
      url: '/api/v1/orgs/contoso.com',
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(after.statusCode).toBe(401);
  });

  it('ends the sessions of a user whose password `users set-password` sets', async () => {
    const cookie = await login('admin@contoso.com');
    expect(await signedIn(cookie)).toBe(200);
    const res = await run(
      ['users', 'set-password', '--org', 'contoso.com', '--email', 'admin@contoso.com', '--password-stdin'],
      PASSWORD,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(await signedIn(cookie)).toBe(401);
  });

  it('ends the sessions of an operator whose password `operator set-password` sets', async () => {
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    const cookie = await login('ops@service.test');
    const res = await run(
      ['operator', 'set-password', '--email', 'ops@service.test', '--password-stdin'],
      PASSWORD,
    );
    expect(res.code, res.stderr).toBe(0);
    expect(await signedIn(cookie)).toBe(401);
  });
});
