import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { loadOrCreateTls } from '../../src/emulator/certs.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import type { Runtime } from '../../src/services/clock.js';
import { systemRuntime } from '../../src/services/clock.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { signInOverHttps } from '../support/https.js';

const PASSWORD = 'correct horse battery staple';

/** A clock the test moves by hand, so lock-outs can be waited out without waiting. */
function manualClock(): Runtime & { advance(ms: number): void } {
  let now = Date.now();
  return {
    now: () => new Date(now),
    newId: systemRuntime.newId,
    advance(ms) {
      now += ms;
    },
  };
}

// Each attempt comes from its own client address, so the per-IP limit (10 a minute) stays out of
// the way of the per-account one.
let nextIp = 1;
const freshIp = () => `10.9.${Math.floor(nextIp / 250)}.${(nextIp++ % 250) + 1}`;

describe.each(DATABASES)('sign-in hardening on %s', (kind) => {
  let db: TestDatabase;
  let clock: ReturnType<typeof manualClock>;
  let app: App;
  let second: App;
  let server: FastifyInstance;
  let secondServer: FastifyInstance;

  const login = (
    srv: FastifyInstance,
    email: string,
    password: string,
    headers: Record<string, string> = {},
  ) =>
    srv.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
      remoteAddress: freshIp(),
      headers,
    });

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    clock = manualClock();
    const config = loadConfig({ ...db.env });
    app = await openApp(config, clock);
    // A second process on the same database: the count must be shared, not per process.
    second = await openApp(config, clock);
    server = await buildServer(app);
    secondServer = await buildServer(second);
    const org = await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test');
    const dir = await app.directory(org.id);
    for (const email of ['ana@contoso.com', 'bo@contoso.com']) {
      const user = await dir.addUser({ email, role: 'org_admin' }, 'test');
      await dir.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
    }
  });

  afterAll(async () => {
    await server?.close();
    await secondServer?.close();
    await second?.close();
    await app?.close();
    await db?.drop();
  });

  it('locks an address out after 5 wrong passwords, for a doubling time, across processes; success resets', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await login(i % 2 ? secondServer : server, 'ana@contoso.com', 'wrong password!');
      expect(res.statusCode, res.body).toBe(401);
    }
    // Even the right password is refused now, by either process, and without saying whether it was right.
    for (const srv of [server, secondServer]) {
      const locked = await login(srv, 'ana@contoso.com', PASSWORD);
      expect(locked.statusCode).toBe(429);
      expect(locked.json().error.code).toBe('rate_limited');
      expect(locked.json().error.message).toMatch(/failed sign-ins for this address.*15 seconds/);
    }
    // Another address is not affected.
    expect((await login(server, 'bo@contoso.com', PASSWORD)).statusCode).toBe(200);

    clock.advance(16_000);
    expect((await login(server, 'ana@contoso.com', 'wrong again!!!')).statusCode).toBe(401);
    // The sixth failure locks for twice as long: 30 s.
    clock.advance(16_000);
    expect((await login(server, 'ana@contoso.com', PASSWORD)).statusCode).toBe(429);
    clock.advance(15_000);
    expect((await login(secondServer, 'ana@contoso.com', PASSWORD)).statusCode).toBe(200);

    // Success started the address afresh: five more failures before a lock.
    for (let i = 0; i < 5; i++)
      expect((await login(server, 'ana@contoso.com', 'wrong password!')).statusCode).toBe(401);
    expect((await login(server, 'ana@contoso.com', PASSWORD)).statusCode).toBe(429);
  });

  it('locks an address without an account exactly like one with an account', async () => {
    for (let i = 0; i < 5; i++)
      expect((await login(server, 'nobody@contoso.com', 'wrong password!')).statusCode).toBe(401);
    const res = await login(server, 'nobody@contoso.com', 'wrong password!');
    expect(res.statusCode).toBe(429);
    expect(res.json().error.message).toMatch(/failed sign-ins for this address/);
  });

  it('refuses password checks beyond its queue at once with 429, and answers the rest', async () => {
    const answers = await Promise.all(
      Array.from({ length: 48 }, (_, i) => login(server, `flood${i}@contoso.com`, 'wrong password!')),
    );
    const statuses = answers.map((a) => a.statusCode);
    const busy = answers.filter((a) => a.statusCode === 429);
    expect(
      statuses.every((s) => s === 401 || s === 429),
      String(statuses),
    ).toBe(true);
    expect(busy.length, String(statuses)).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThanOrEqual(2);
    expect(busy[0]!.json().error).toMatchObject({
      code: 'rate_limited',
      message: expect.stringMatching(/busy/),
    });
  });

  it('turns a full disk into disk_full (HTTP 507) and writes nothing', async () => {
    const operator = await app.auth.bootstrapOperator();
    expect(operator).not.toBeNull();
    const signIn = await login(server, operator!.email, operator!.password);
    expect(signIn.statusCode, signIn.body).toBe(200);
    const headers = {
      cookie: String(signIn.headers['set-cookie']).split(';')[0]!,
      'x-csrf-token': signIn.json().csrfToken as string,
    };
    const before = await app.orgs.list();
    let res: Awaited<ReturnType<FastifyInstance['inject']>> | undefined;
    if (kind === 'sqlite') {
      // The database may not grow by a single page: the next write that needs one fails SQLITE_FULL.
      const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(app.store.db);
      await sql.raw(`pragma max_page_count = ${rows[0]!.page_count}`).execute(app.store.db);
      const big = 'x'.repeat(200);
      for (let i = 0; i < 200; i++) {
        res = await server.inject({
          method: 'POST',
          url: '/api/v1/orgs',
          headers,
          payload: {
            name: `Full ${i} ${big}`.slice(0, 100),
            domains: [`full${i}-${'d'.repeat(40)}.example.com`],
          },
        });
        if (res.statusCode !== 201 && res.statusCode !== 200) break;
        before.push(...(await app.orgs.list()).filter((o) => !before.some((b) => b.id === o.id)));
      }
    } else {
      // PostgreSQL's disk_full cannot be provoked safely on a shared server: raise its SQLSTATE.
      await sql
        .raw(`create function entrasync_test_disk_full() returns trigger language plpgsql as
          $$ begin raise exception 'could not extend file' using errcode = '53100'; end $$`)
        .execute(app.store.db);
      await sql
        .raw(`create trigger entrasync_test_disk_full before insert on domains
          for each row execute function entrasync_test_disk_full()`)
        .execute(app.store.db);
      res = await server.inject({
        method: 'POST',
        url: '/api/v1/orgs',
        headers,
        payload: { name: 'Full', domains: ['full.example.com'] },
      });
    }
    expect(res?.statusCode, res?.body).toBe(507);
    expect(res!.json().error).toMatchObject({
      code: 'disk_full',
      message: expect.stringMatching(/database's disk is full/),
    });
    expect(res!.body).not.toMatch(/rollback/);
    // The organization whose domain could not be written was not half-created.
    expect((await app.orgs.list()).map((o) => o.id).sort()).toEqual(before.map((o) => o.id).sort());
    if (kind === 'sqlite') await sql.raw('pragma max_page_count = 1073741823').execute(app.store.db);
    else {
      await sql.raw('drop trigger entrasync_test_disk_full on domains').execute(app.store.db);
      await sql.raw('drop function entrasync_test_disk_full').execute(app.store.db);
    }
  });
});

describe.each(DATABASES)('TLS, proxies and logs on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-tls-'));

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    const org = await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'test');
    const d = await app.directory(org.id);
    const user = await d.addUser({ email: 'ana@contoso.com', role: 'org_admin' }, 'test');
    await d.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const signIn = (server: FastifyInstance, headers: Record<string, string> = {}) =>
    server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'ana@contoso.com', password: PASSWORD },
      remoteAddress: freshIp(),
      headers,
    });

  it('over https: Secure session cookie and HSTS', async () => {
    const tls = loadOrCreateTls(dir, ['127.0.0.1']);
    const server = await buildServer(app, { https: { cert: tls.certPem, key: tls.keyPem } });
    try {
      const address = new URL(await server.listen({ port: 0, host: '127.0.0.1' }));
      expect(address.protocol).toBe('https:');
      const res = await signInOverHttps(address, tls.caPem, { email: 'ana@contoso.com', password: PASSWORD });
      expect(res.status).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/entrasync_session=.*; Secure/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      await server.close();
    }
  });

  it('plain http: no Secure flag, no HSTS — and X-Forwarded-* ignored unless the proxy is trusted', async () => {
    const server = await buildServer(app);
    try {
      const res = await signIn(server, { 'x-forwarded-proto': 'https' });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).not.toMatch(/Secure/);
      expect(res.headers['strict-transport-security']).toBeUndefined();
      // Without trust, a client cannot dodge the per-IP limit by inventing X-Forwarded-For.
      const answers = [];
      for (let i = 0; i < 11; i++)
        answers.push(
          await server.inject({
            method: 'POST',
            url: '/api/v1/auth/login',
            payload: { email: `ip${i}@contoso.com`, password: 'wrong password!' },
            remoteAddress: '10.77.0.1',
            headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
          }),
        );
      expect(answers.map((a) => a.statusCode)).toEqual([...Array(10).fill(401), 429]);
    } finally {
      await server.close();
    }
  });

  it('behind a trusted proxy: X-Forwarded-Proto https gives Secure and HSTS; X-Forwarded-For is the client', async () => {
    const server = await buildServer(app, { trustProxy: true });
    try {
      const res = await signIn(server, { 'x-forwarded-proto': 'https' });
      expect(res.statusCode).toBe(200);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
      const plain = await signIn(server, { 'x-forwarded-proto': 'http' });
      expect(String(plain.headers['set-cookie'])).not.toMatch(/Secure/);

      const from = (client: string, i: number) =>
        server.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { email: `proxy${client}${i}@contoso.com`, password: 'wrong password!' },
          remoteAddress: '10.77.0.2',
          headers: { 'x-forwarded-for': client },
        });
      for (let i = 0; i < 10; i++) expect((await from('203.0.113.7', i)).statusCode).toBe(401);
      expect((await from('203.0.113.7', 10)).statusCode).toBe(429);
      // The same proxy, another client: its own allowance.
      expect((await from('203.0.113.8', 0)).statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('logs requests at debug, and nothing at info for refused requests', async () => {
    const lines: { level: number; msg: string }[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const refuse = async (server: FastifyInstance) => {
      await server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: 'x@contoso.com', password: 'wrong password!' },
        remoteAddress: freshIp(),
      });
      await server.inject({ method: 'GET', url: '/api/v1/orgs' });
      await server.inject({ method: 'GET', url: '/api/v1/no-such-route' });
      await server.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 1 } });
    };
    const atInfo = await buildServer(app, { logger: { level: 'info', stream } });
    try {
      await refuse(atInfo);
      expect((await atInfo.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await atInfo.close();
    }
    expect(lines.filter((l) => l.level >= 30 && /request|Route|not right|Sign in|must/.test(l.msg))).toEqual(
      [],
    );

    lines.length = 0;
    const atDebug = await buildServer(app, { logger: { level: 'debug', stream } });
    try {
      await refuse(atDebug);
    } finally {
      await atDebug.close();
    }
    expect(
      lines.filter((l) => l.level === 20 && l.msg === 'request completed').length,
    ).toBeGreaterThanOrEqual(4);
    expect(lines.filter((l) => l.level >= 30 && l.msg !== 'Server listening')).toEqual([]);
  });
});
