import type { FastifyInstance } from 'fastify';
import type { KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

/** Counts the queries run through the Kysely instance it is added to. */
class QueryCounter implements KyselyPlugin {
  count = 0;
  transformQuery: KyselyPlugin['transformQuery'] = (args) => {
    this.count++;
    return args.node;
  };
  transformResult: KyselyPlugin['transformResult'] = async (args) => args.result;
}

/**
 * GET /api/v1/overview, the operator's view across organizations, on the server as shipped (no
 * permissive flags): organizations in each state come back most urgent first, paged and filtered;
 * only operators see it; and 2,000 more organizations cost no more queries.
 */
describe.each(DATABASES)('Service overview, on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  let operator: string;
  let admin: string;
  const ids: Record<string, string> = {};

  const get = (query: string, token = operator) =>
    server.inject({
      method: 'GET',
      url: `/api/v1/overview${query}`,
      headers: { authorization: `Bearer ${token}` },
    });
  const names = async (query: string) => {
    const res = await get(query);
    expect(res.statusCode, res.body).toBe(200);
    return (res.json().items as { name: string }[]).map((i) => i.name);
  };

  async function connect(orgId: string, secretExpiresAt: string | null) {
    await app.store.db
      .insertInto('entra_settings')
      .values({
        org_id: orgId,
        tenant: 'tenant.onmicrosoft.com',
        client_id: '00000000-0000-0000-0000-000000000000',
        secret_ciphertext: 'sealed',
        secret_last4: 'abcd',
        secret_expires_at: secretExpiresAt,
        default_role: 'end_user',
        what: '{}',
        how: '{}',
        frequency_hours: 6,
        cloud: 'global',
        authority_host: null,
        graph_url: null,
        ca_pem: null,
        endpoints_by_operator: false,
        include_guests: false,
        blocked_mailboxes: 'deliver',
        updated_at: hoursAgo(100),
      })
      .execute();
  }
  async function run(orgId: string, id: string, status: string, hours: number) {
    await app.store.db
      .insertInto('sync_runs')
      .values({
        org_id: orgId,
        id,
        trigger: 'automatic',
        actor: 'scheduler',
        plan_id: null,
        status,
        started_at: hoursAgo(hours),
        finished_at: status === 'held' ? null : hoursAgo(hours - 0.1),
        summary: JSON.stringify({ status }),
        detail: null,
      })
      .execute();
  }

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    server = await buildServer(app);
    const create = async (name: string, domain: string) => {
      ids[name] = (await app.orgs.create({ name, domains: [domain] }, 'test')).id;
      return ids[name]!;
    };
    const failing = await create('Alpha Failing', 'alpha.example');
    await connect(failing, dateIn(300));
    await run(failing, 'a1', 'succeeded', 30);
    await run(failing, 'a2', 'failed', 2);
    await app.store.db
      .insertInto('sync_health')
      .values({
        org_id: failing,
        consecutive_failures: 2,
        last_error: JSON.stringify({ code: 'invalid_secret', message: 'Entra refused the key.' }),
        last_failure_at: hoursAgo(2),
        last_success_at: hoursAgo(30),
        updated_at: hoursAgo(2),
      })
      .execute();
    const held = await create('Bravo Held', 'bravo.example');
    await connect(held, dateIn(300));
    await run(held, 'b1', 'succeeded', 20);
    await run(held, 'b2', 'held', 1);
    const expired = await create('Charlie Expired', 'charlie.example');
    await connect(expired, dateIn(-1));
    await run(expired, 'c1', 'succeeded', 10);
    const expiring = await create('Delta Expiring', 'delta.example');
    await connect(expiring, dateIn(10));
    await run(expiring, 'd1', 'completed_with_conflicts', 5);
    await connect(await create('Echo Never', 'echo.example'), dateIn(300));
    const healthy = await create('Foxtrot Healthy', 'foxtrot.example');
    await connect(healthy, dateIn(300));
    await run(healthy, 'f1', 'failed', 8);
    await run(healthy, 'f2', 'succeeded', 3);
    await create('Golf Unconnected', 'golf.example');

    operator = (await app.auth.createApiToken({ name: 'operator', orgId: null, createdBy: 'test' })).token;
    admin = (await app.auth.createApiToken({ name: 'admin', orgId: healthy, createdBy: 'test' })).token;
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await db?.drop();
  });

  it('lists organizations most urgent first, with the facts that say why', async () => {
    const res = await get('');
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total).toBe(7);
    expect(body.items.map((i: { name: string; attention: string }) => [i.name, i.attention])).toEqual([
      ['Alpha Failing', 'failing'],
      ['Bravo Held', 'held'],
      ['Charlie Expired', 'key_expired'],
      ['Delta Expiring', 'key_expiring'],
      ['Echo Never', 'never_synced'],
      ['Golf Unconnected', 'never_synced'],
      ['Foxtrot Healthy', 'ok'],
    ]);
    const [alpha, bravo, , delta, echo, golf, foxtrot] = body.items;
    expect(alpha).toMatchObject({
      domains: 1,
      connected: true,
      reasons: ['failing'],
      health: {
        healthy: false,
        consecutiveFailures: 2,
        lastError: { code: 'invalid_secret', message: 'Entra refused the key.' },
      },
      lastRun: { status: 'failed' },
      frequencyHours: 6,
    });
    expect(Date.parse(alpha.lastSuccessAt)).toBeCloseTo(Date.parse(hoursAgo(30)), -5);
    expect(bravo).toMatchObject({ heldRunId: 'b2', lastRun: { status: 'held' }, health: { healthy: true } });
    expect(delta.key).toEqual({ expiresAt: dateIn(10), daysLeft: 10 });
    expect(echo).toMatchObject({ connected: true, lastRun: null, lastSuccessAt: null });
    expect(golf).toMatchObject({ connected: false, key: null, health: { healthy: false } });
    // A failure an earlier success was followed by a success: ok.
    expect(foxtrot).toMatchObject({
      reasons: [],
      lastRun: { status: 'succeeded' },
      health: { healthy: true },
    });
  });

  it('pages, sorts by name or last success either way, and filters by need', async () => {
    const page1 = await get('?limit=3');
    const page3 = await get('?limit=3&offset=6');
    expect(page1.json().total).toBe(7);
    expect(page1.json().items.map((i: { name: string }) => i.name)).toEqual([
      'Alpha Failing',
      'Bravo Held',
      'Charlie Expired',
    ]);
    expect(page3.json().items.map((i: { name: string }) => i.name)).toEqual(['Foxtrot Healthy']);
    expect(await names('?sort=name&order=desc&limit=2')).toEqual(['Golf Unconnected', 'Foxtrot Healthy']);
    expect(await names('?sort=attention&order=desc&limit=3')).toEqual([
      'Foxtrot Healthy',
      'Echo Never',
      'Golf Unconnected',
    ]);
    // Oldest success first, never synced before any; ties by name.
    expect(await names('?sort=lastSuccess')).toEqual([
      'Echo Never',
      'Golf Unconnected',
      'Alpha Failing',
      'Bravo Held',
      'Charlie Expired',
      'Delta Expiring',
      'Foxtrot Healthy',
    ]);
    expect((await names('?sort=lastSuccess&order=desc')).slice(0, 2)).toEqual([
      'Foxtrot Healthy',
      'Delta Expiring',
    ]);
    expect(await names('?needs=held')).toEqual(['Bravo Held']);
    expect(await names('?needs=failing')).toEqual(['Alpha Failing']);
    expect(await names('?needs=key')).toEqual(['Charlie Expired', 'Delta Expiring']);
    expect(await names('?needs=never&sort=name')).toEqual(['Echo Never', 'Golf Unconnected']);
    expect((await get('?needs=any')).json().total).toBe(6);
  });

  it('refuses bad parameters, naming them', async () => {
    const sort = await get('?sort=size');
    expect(sort.statusCode).toBe(400);
    expect(sort.json().error).toMatchObject({ field: 'sort' });
    expect(sort.json().error.message).toMatch(/"size".*attention, name, lastSuccess/);
    const needs = await get('?needs=love');
    expect(needs.statusCode).toBe(400);
    expect(needs.json().error.field).toBe('needs');
    expect((await get('?order=up')).json().error.field).toBe('order');
    expect((await get('?limit=501')).statusCode).toBe(400);
    expect((await get('?limit=0')).statusCode).toBe(400);
    expect((await get('?offset=-1')).statusCode).toBe(400);
    expect((await get('?limit=500')).statusCode).toBe(200);
  });

  it('answers operators only', async () => {
    const res = await get('', admin);
    expect(res.statusCode).toBe(403);
    expect(res.body).not.toMatch(/Alpha/);
    // Refused before the query is looked at: a bad parameter does not tell a non-operator more.
    expect((await get('?sort=size', admin)).statusCode).toBe(403);
    expect((await server.inject({ method: 'GET', url: '/api/v1/overview' })).statusCode).toBe(401);
  });

  it('answers a page of thousands of organizations in as many queries as of a few', async () => {
    const original = app.store.db;
    const counted = async (query: string) => {
      const counter = new QueryCounter();
      app.store.db = original.withPlugin(counter);
      try {
        const res = await get(query);
        expect(res.statusCode, res.body).toBe(200);
        return { count: counter.count, body: res.json() };
      } finally {
        app.store.db = original;
      }
    };
    const few = await counted('?limit=50');

    // 2,000 more organizations, inserted in bulk: half connected, a third with a run.
    const created = new Date().toISOString();
    const many = Array.from({ length: 2000 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    let failedBulk = 0;
    for (let i = 0; i < many.length; i += 250) {
      const chunk = many.slice(i, i + 250);
      await original
        .insertInto('organizations')
        .values(chunk.map((id) => ({ id, name: `Bulk ${id}`, licensed_seats: null, created_at: created })))
        .execute();
      await original
        .insertInto('domains')
        .values(chunk.map((id) => ({ org_id: id, domain: `${id}.example`, created_at: created })))
        .execute();
      const connected = chunk.filter((_, j) => (i + j) % 2 === 0);
      await original
        .insertInto('entra_settings')
        .values(
          connected.map((id) => ({
            org_id: id,
            tenant: 't',
            client_id: 'c',
            secret_ciphertext: 'sealed',
            secret_last4: 'abcd',
            secret_expires_at: dateIn(200),
            default_role: 'end_user',
            what: '{}',
            how: '{}',
            frequency_hours: 24,
            cloud: 'global',
            authority_host: null,
            graph_url: null,
            ca_pem: null,
            endpoints_by_operator: false,
            include_guests: false,
            blocked_mailboxes: 'deliver',
            updated_at: created,
          })),
        )
        .execute();
      const ran = chunk.filter((_, j) => (i + j) % 3 === 0);
      failedBulk += ran.filter((_, k) => k % 5 === 0).length;
      await original
        .insertInto('sync_runs')
        .values(
          ran.map((id, k) => ({
            org_id: id,
            id: `${id}-r`,
            trigger: 'automatic',
            actor: 'scheduler',
            plan_id: null,
            status: k % 5 === 0 ? 'failed' : 'succeeded',
            started_at: hoursAgo(1),
            finished_at: hoursAgo(0.9),
            summary: '{}',
            detail: null,
          })),
        )
        .execute();
    }

    const lots = await counted('?limit=50&offset=1000');
    expect(lots.body.total).toBe(2007);
    expect(lots.body.items).toHaveLength(50);
    expect(lots.count).toBe(few.count);
    // The caller's token, and the facts of every organization: one query, whatever their number.
    expect(lots.count).toBeLessThanOrEqual(4);
    // The urgent ones still lead among thousands, and are found by their need.
    const failing = (await counted('?needs=failing&limit=500')).body;
    expect(failing.total).toBe(1 + failedBulk);
    expect(failing.items[0].name).toBe('Alpha Failing');
    expect((await counted('?limit=1')).body.items[0].name).toBe('Alpha Failing');
    expect((await counted('?needs=held')).body.items.map((i: { name: string }) => i.name)).toEqual([
      'Bravo Held',
    ]);
    const byName = await counted('?sort=name&limit=500&offset=2000');
    expect(byName.body.items.map((i: { name: string }) => i.name)).toEqual([
      'Bulk bulk-1998',
      'Bulk bulk-1999',
      'Charlie Expired',
      'Delta Expiring',
      'Echo Never',
      'Foxtrot Healthy',
      'Golf Unconnected',
    ]);
  });
});
