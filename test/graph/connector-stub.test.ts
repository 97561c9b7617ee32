/**
 * The connector against a scripted HTTPS server: exact control of Microsoft's answers (dropped
 * connections, malformed pages, AADSTS errors) that the emulator offers only at random.
 */
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type GraphConnection, GraphConnector, GraphError, INTERACTIVE } from '../../src/graph/index.js';
import { closedPort, type DeadHost, neverConnects, silentServer } from './support/dead-hosts.js';
import { fakeToken, type HttpsStub, json, type StubRequest, startHttpsStub } from './support/https-stub.js';

const TENANT_ID = '0b0b0b0b-1111-2222-3333-444444444444';
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const SECRET = 'stub~Secret.Value-0123456789';
const U1 = '00000000-0000-0000-0000-0000000000u1';
const U2 = '00000000-0000-0000-0000-0000000000u2';
const U3 = '00000000-0000-0000-0000-0000000000u3';
const G1 = '00000000-0000-0000-0000-0000000000g1';

type Route = (req: StubRequest, res: ServerResponse) => void;

let stub: HttpsStub;
let routes: Record<string, Route[]>;
let roles: string[];

/** Queues answers for a path (without query); the last one repeats. */
function on(pathPrefix: string, ...answers: Route[]) {
  routes[pathPrefix] = answers;
}

const user = (id: string, extra: object = {}) => ({
  id,
  userPrincipalName: `${id}@contoso.com`,
  userType: 'Member',
  accountEnabled: true,
  mail: `${id}@contoso.com`,
  proxyAddresses: [`SMTP:${id}@contoso.com`],
  givenName: null,
  surname: null,
  displayName: id,
  ...extra,
});
const group = {
  id: G1,
  displayName: 'Sales',
  mail: null,
  mailEnabled: false,
  securityEnabled: true,
  groupTypes: [],
  proxyAddresses: [],
};

function connection(extra: Partial<GraphConnection> = {}): GraphConnection {
  return {
    tenant: 'contoso.onmicrosoft.com',
    clientId: CLIENT_ID,
    clientSecret: SECRET,
    cloud: 'global',
    authorityHost: stub.origin,
    graphUrl: stub.origin,
    caPem: stub.caPem,
    ...extra,
  };
}

const waits: number[] = [];
const connector = (extra: Partial<GraphConnection> = {}) =>
  new GraphConnector(connection(extra), {
    sleep: async (ms) => {
      waits.push(ms);
    },
  });

beforeAll(async () => {
  stub = await startHttpsStub((req, res) => {
    const path = req.url.split('?')[0] ?? '';
    const key = Object.keys(routes)
      .sort((a, b) => b.length - a.length)
      .find((p) => path.startsWith(p));
    const queue = key ? routes[key] : undefined;
    if (!queue || queue.length === 0) return json(res, 404, { error: { code: 'NotFound', message: path } });
    const answer = queue.length > 1 ? queue.shift()! : queue[0]!;
    answer(req, res);
  });
});
afterAll(() => stub.close());

beforeEach(() => {
  waits.length = 0;
  stub.requests.length = 0;
  roles = ['User.Read.All', 'GroupMember.Read.All'];
  routes = {};
  on('/contoso.onmicrosoft.com/oauth2/v2.0/token', (_req, res) =>
    json(res, 200, {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: fakeToken({ tid: TENANT_ID, roles, aud: 'https://graph.microsoft.com' }),
    }),
  );
  on('/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration', (_req, res) =>
    json(res, 200, {
      issuer: `${stub.origin}/${TENANT_ID}/v2.0`,
      token_endpoint: `${stub.origin}/${TENANT_ID}/oauth2/v2.0/token`,
    }),
  );
  on(
    '/v1.0/users/delta',
    (_req, res) =>
      json(res, 200, {
        '@odata.nextLink': `${stub.origin}/v1.0/users/delta?$skiptoken=p2`,
        value: [user(U1)],
      }),
    (_req, res) =>
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d1`,
        value: [user(U2)],
      }),
  );
  on(
    '/v1.0/groups/delta',
    (_req, res) =>
      json(res, 200, {
        '@odata.nextLink': `${stub.origin}/v1.0/groups/delta?$skiptoken=p2`,
        value: [{ ...group, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: U1 }] }],
      }),
    (_req, res) =>
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d1`,
        value: [{ ...group, 'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: U2 }] }],
      }),
  );
});

describe('GraphConnector over HTTPS (scripted server)', () => {
  it('reads users and groups with members split across pages, with one token and a client-request-id per request', async () => {
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(result.mode).toBe('full');
    expect(result.snapshot.users.map((u) => u.externalId)).toEqual([U1, U2]);
    expect(result.snapshot.groups).toEqual([
      {
        externalId: G1,
        displayName: 'Sales',
        mail: null,
        mailEnabled: false,
        securityEnabled: true,
        groupTypes: [],
        proxyAddresses: [],
        memberUserIds: [U1, U2],
        memberGroupIds: [],
      },
    ]);
    expect(result.cursor).toEqual({
      usersDeltaLink: `${stub.origin}/v1.0/users/delta?$deltatoken=d1`,
      groupsDeltaLink: `${stub.origin}/v1.0/groups/delta?$deltatoken=d1`,
      // Both members are ordinary people whose purpose a users read decides.
      unreadPurposes: 0,
      unreadPurposeIds: [],
    });
    expect(result.stats).toEqual({
      requests: 4,
      retries: 0,
      throttled: 0,
      pages: 4,
      tokenRequests: 1,
      roundRestarts: 0,
    });

    const graph = stub.requests.filter((r) => r.url.startsWith('/v1.0/'));
    expect(graph.map((r) => decodeURIComponent(r.url))).toContain(
      '/v1.0/users/delta?$select=id,userPrincipalName,userType,accountEnabled,mail,proxyAddresses,givenName,surname,displayName',
    );
    expect(graph.map((r) => decodeURIComponent(r.url))).toContain(
      '/v1.0/groups/delta?$select=id,displayName,mail,mailEnabled,securityEnabled,groupTypes,proxyAddresses,members',
    );
    for (const r of stub.requests) expect(r.headers['client-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const r of graph) expect(r.headers.authorization).toMatch(/^Bearer ey/);
    const token = stub.requests.find((r) => r.url.includes('/oauth2/v2.0/token'));
    expect(token?.body).toContain('scope=https%3A%2F%2F127.0.0.1');
    expect(token?.body).toContain('grant_type=client_credentials');
  });

  it('retries 429 (Retry-After), 503 and a dropped connection, with an identical result', async () => {
    const ok = routes['/v1.0/users/delta']!;
    on(
      '/v1.0/users/delta',
      (_req, res) =>
        json(
          res,
          429,
          { error: { code: 'TooManyRequests', message: 'Please retry again later.' } },
          { 'retry-after': '2.5' },
        ),
      (_req, res) => json(res, 503, { error: { code: 'serviceNotAvailable', message: 'x' } }),
      (req, res) => {
        req;
        res.socket?.destroy();
      },
      ...ok,
    );
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(result.snapshot.users.map((u) => u.externalId)).toEqual([U1, U2]);
    expect(result.stats).toMatchObject({ requests: 7, retries: 3, throttled: 1, pages: 4 });
    expect(waits[0]).toBe(2500);
    expect(waits).toHaveLength(3);
    // Retries of one logical request keep its client-request-id.
    const first = stub.requests.filter(
      (r) => r.url.startsWith('/v1.0/users/delta?%24select') || r.url.startsWith('/v1.0/users/delta?$select'),
    );
    expect(new Set(first.map((r) => r.headers['client-request-id'])).size).toBe(1);
  });

  it('gives up after maxRetries with the code of the last failure', async () => {
    on('/v1.0/users/delta', (_req, res) =>
      json(res, 503, { error: { code: 'serviceNotAvailable', message: 'down' } }),
    );
    const c = new GraphConnector(connection(), { maxRetries: 2, sleep: async () => undefined });
    await expect(c.readFull()).rejects.toMatchObject({
      code: 'service_unavailable',
      detail: '[serviceNotAvailable] down',
    });
    await c.close();
  });

  it('applies a delta round on top of the previous snapshot and reuses the cached token', async () => {
    const c = connector();
    const full = await c.readFull();
    on('/v1.0/users/delta', (req, res) => {
      expect(req.url).toContain('deltatoken=d1');
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d2`,
        value: [{ id: U1, displayName: 'Renamed' }, { id: U2, '@removed': { reason: 'deleted' } }, user(U3)],
      });
    });
    on('/v1.0/groups/delta', (_req, res) =>
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d2`,
        value: [
          {
            id: G1,
            'members@delta': [
              { '@odata.type': '#microsoft.graph.user', id: U2, '@removed': { reason: 'deleted' } },
              { '@odata.type': '#microsoft.graph.user', id: U3 },
              { '@odata.type': '#microsoft.graph.orgContact', id: 'contact' },
            ],
          },
        ],
      }),
    );
    const delta = await c.readChanges(full);
    await c.close();
    expect(delta.mode).toBe('delta');
    expect(delta.stats.tokenRequests).toBe(0);
    expect(delta.snapshot.users.map((u) => [u.externalId, u.displayName])).toEqual([
      [U1, 'Renamed'],
      [U3, U3],
    ]);
    expect(delta.snapshot.users[0]?.mail).toBe(`${U1}@contoso.com`);
    expect(delta.snapshot.groups[0]?.memberUserIds).toEqual([U1, U3]);
    expect(delta.cursor.usersDeltaLink).toContain('d2');
  });

  it.each([
    [
      '400 syncStateNotFound',
      400,
      { error: { code: 'syncStateNotFound', message: 'The sync state generation is not found.' } },
    ],
    [
      '400 SyncStateNotFound (capital S, as real Graph spells it)',
      400,
      { error: { code: 'SyncStateNotFound', message: 'The sync state generation is not found.' } },
    ],
    [
      '400 syncstatenotfound nested in innererror',
      400,
      { error: { code: 'BadRequest', message: 'x', innererror: { code: 'syncstatenotfound' } } },
    ],
    ['410 Gone', 410, { error: { code: 'resyncRequired', message: 'reset' } }],
  ])('falls back to a full read when the delta link is refused (%s)', async (_name, status, body) => {
    const c = connector();
    const full = await c.readFull();
    const fullUsers = routes['/v1.0/users/delta'];
    on('/v1.0/users/delta', (req, res) => {
      if (req.url.includes('deltatoken=d1')) return json(res, status, body);
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d3`,
        value: [user(U3)],
      });
    });
    on('/v1.0/groups/delta', (_req, res) =>
      json(res, 200, { '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d2`, value: [] }),
    );
    const result = await c.readChanges(full);
    await c.close();
    expect(fullUsers).toBeDefined();
    expect(result.mode).toBe('full-after-expired-delta');
    // The users were read afresh: U1 and U2 are gone (the caller's set difference removes them).
    expect(result.snapshot.users.map((u) => u.externalId)).toEqual([U3]);
    expect(result.snapshot.groups).toEqual(full.snapshot.groups);
    expect(result.cursor.usersDeltaLink).toContain('d3');
  });

  it('an unrelated 400 on the delta link fails the read and keeps the stored link (no full read)', async () => {
    const c = connector();
    const full = await c.readFull();
    stub.requests.length = 0;
    on('/v1.0/users/delta', (req, res) => {
      if (req.url.includes('deltatoken=d1'))
        return json(res, 400, { error: { code: 'Request_BadRequest', message: 'Invalid request.' } });
      json(res, 200, { '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d9`, value: [] });
    });
    const error = (await c.readChanges(full).catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error).toBeInstanceOf(GraphError);
    expect(error.code).toBe('graph_error');
    expect(error.detail).toContain('[Request_BadRequest] Invalid request.');
    expect(stub.requests.some((r) => decodeURIComponent(r.url).includes('users/delta?$select'))).toBe(false);
  });

  const expiredPage = (res: ServerResponse) =>
    json(res, 400, {
      error: {
        code: 'Directory_ExpiredPageToken',
        message: 'The specified page token value has expired and can no longer be included in your request.',
      },
    });

  it('Directory_ExpiredPageToken on a nextLink starts that round over with fresh state', async () => {
    let firstPages = 0;
    let expired = false;
    on('/v1.0/users/delta', (req, res) => {
      if (req.url.includes('skiptoken=p2')) {
        if (!expired) {
          expired = true;
          return expiredPage(res);
        }
        return json(res, 200, {
          '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d1`,
          value: [user(U2)],
        });
      }
      // U3 comes only in the first, abandoned pass: fresh state must forget it.
      firstPages++;
      json(res, 200, {
        '@odata.nextLink': `${stub.origin}/v1.0/users/delta?$skiptoken=p2`,
        value: [user(firstPages === 1 ? U3 : U1)],
      });
    });
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(firstPages).toBe(2);
    expect(result.mode).toBe('full');
    expect(result.snapshot.users.map((u) => u.externalId)).toEqual([U1, U2]);
    expect(result.snapshot.groups[0]?.memberUserIds).toEqual([U1, U2]);
    expect(result.cursor.usersDeltaLink).toContain('deltatoken=d1');
    expect(result.stats).toMatchObject({ roundRestarts: 1, retries: 0 });
  });

  it('an incremental round restarts from its stored delta link, on top of the previous snapshot', async () => {
    const c = connector();
    const full = await c.readFull();
    let deltaPages = 0;
    let expired = false;
    on('/v1.0/users/delta', (req, res) => {
      if (req.url.includes('deltatoken=d1')) {
        deltaPages++;
        // The abandoned pass removes U2; the pass that completes renames U1 instead.
        const change =
          deltaPages === 1
            ? { id: U2, '@removed': { reason: 'deleted' } }
            : { id: U1, displayName: 'Renamed' };
        return json(res, 200, {
          '@odata.nextLink': `${stub.origin}/v1.0/users/delta?$skiptoken=q2`,
          value: [change],
        });
      }
      if (req.url.includes('skiptoken=q2') && !expired) {
        expired = true;
        return expiredPage(res);
      }
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d2`,
        value: [user(U3)],
      });
    });
    on('/v1.0/groups/delta', (_req, res) =>
      json(res, 200, { '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d2`, value: [] }),
    );
    const result = await c.readChanges(full);
    await c.close();
    expect(deltaPages).toBe(2);
    expect(result.mode).toBe('delta');
    expect(result.snapshot.users.map((u) => [u.externalId, u.displayName])).toEqual([
      [U1, 'Renamed'],
      [U2, U2],
      [U3, U3],
    ]);
    expect(result.cursor.usersDeltaLink).toContain('deltatoken=d2');
    expect(result.stats.roundRestarts).toBe(1);
  });

  it('a nextLink that keeps expiring ends the read with page_expired after two restarts', async () => {
    let firstPages = 0;
    on('/v1.0/users/delta', (req, res) => {
      if (req.url.includes('skiptoken=p2')) return expiredPage(res);
      firstPages++;
      json(res, 200, {
        '@odata.nextLink': `${stub.origin}/v1.0/users/delta?$skiptoken=p2`,
        value: [user(U1)],
      });
    });
    const c = connector();
    const error = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error).toBeInstanceOf(GraphError);
    expect(error.code).toBe('page_expired');
    expect(error.detail).toContain('[Directory_ExpiredPageToken]');
    expect(error.detail).toContain('users delta round started over 2 times');
    expect(error.retryable).toBe(true);
    expect(firstPages).toBe(3);
  });

  it.each([
    [
      'a wrongly typed property',
      (res: ServerResponse) =>
        json(res, 200, {
          '@odata.deltaLink': `${stub.origin}/x`,
          value: [{ id: U1, userPrincipalName: 'a', accountEnabled: 'yes' }],
        }),
      /value\[0\]\.accountEnabled/,
    ],
    [
      'a body that is not JSON',
      (res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"value": [');
      },
      /not JSON/,
    ],
    [
      'a round without deltaLink',
      (res: ServerResponse) => json(res, 200, { value: [] }),
      /no @odata\.deltaLink/,
    ],
    [
      'a nextLink to another host',
      (res: ServerResponse) =>
        json(res, 200, { '@odata.nextLink': 'https://attacker.example/v1.0/users', value: [] }),
      /attacker\.example/,
    ],
  ])('stops on %s with malformed_payload', async (_name, answer, message) => {
    on('/v1.0/users/delta', (_req, res) => answer(res));
    const c = connector();
    const error = await c.readFull().catch((e: unknown) => e);
    await c.close();
    expect(error).toBeInstanceOf(GraphError);
    expect(error).toMatchObject({ code: 'malformed_payload' });
    expect((error as GraphError).detail).toMatch(message);
    expect(stub.requests.some((r) => r.url.includes('attacker'))).toBe(false);
  });

  it('403 → permission_denied naming the missing permission and the consent link', async () => {
    roles = ['User.Read.All'];
    on('/v1.0/groups/delta', (_req, res) =>
      json(res, 403, {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
          innerError: { date: '2025-02-13T10:17:06', 'request-id': 'r', 'client-request-id': 'c' },
        },
      }),
    );
    const c = connector();
    const error = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error.code).toBe('permission_denied');
    expect(error.detail).toBe(
      '[Authorization_RequestDenied] Insufficient privileges to complete the operation.',
    );
    expect(error.hint).toContain('GroupMember.Read.All');
    expect(error.hint).not.toContain('permissions User.Read.All');
    expect(error.hint).toContain(
      `${stub.origin}/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=${CLIENT_ID}`,
    );
  });

  it('a 401 from Graph gets one fresh token', async () => {
    const ok = routes['/v1.0/users/delta']!;
    on(
      '/v1.0/users/delta',
      (_req, res) =>
        json(res, 401, {
          error: {
            code: 'InvalidAuthenticationToken',
            message: 'Access token has expired or is not yet valid.',
          },
        }),
      ...ok,
    );
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(result.stats.tokenRequests).toBe(2);
  });

  it.each([
    [
      'invalid_client',
      [7000215],
      401,
      'invalid_secret',
      "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" +
        CLIENT_ID +
        "'.",
    ],
    [
      'invalid_client',
      [7000222],
      401,
      'expired_secret',
      `AADSTS7000222: The provided client secret keys for app '${CLIENT_ID}' are expired.`,
    ],
    [
      'unauthorized_client',
      [700016],
      400,
      'unknown_client',
      "AADSTS700016: Application with identifier '" +
        CLIENT_ID +
        "' was not found in the directory 'contoso'.",
    ],
    [
      'invalid_tenant',
      [90002],
      400,
      'unknown_tenant',
      "AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found.",
    ],
  ])('token error %s %s → %s, and diagnose says so', async (error, codes, status, code, description) => {
    on('/contoso.onmicrosoft.com/oauth2/v2.0/token', (_req, res) =>
      json(res, status, {
        error,
        error_description: `${description}\r\nTrace ID: 1\r\nCorrelation ID: 2\r\nTimestamp: 2025-01-01 00:00:00Z`,
        error_codes: codes,
        timestamp: '2025-01-01 00:00:00Z',
        trace_id: '1',
        correlation_id: '2',
      }),
    );
    const c = connector();
    const err = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err.code).toBe(code);
    expect(err.detail).toBe(`[${error}] ${description}`);
    expect(err.message).not.toContain(SECRET);
    const report = await c.diagnose();
    await c.close();
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ step: 'token', ok: false, code });
    expect(report.steps.slice(2).every((s) => s.skipped)).toBe(true);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('diagnose: all steps pass and the tenant GUID is resolved', async () => {
    on('/v1.0/users', (_req, res) => json(res, 200, { value: [{ id: U1 }] }));
    on('/v1.0/groups', (req, res) => {
      if (req.url.startsWith(`/v1.0/groups/${G1}/members`))
        return json(res, 200, { value: [{ '@odata.type': '#microsoft.graph.user', id: U1 }] });
      json(res, 200, { value: [{ id: G1 }] });
    });
    const c = connector();
    const report = await c.diagnose();
    await c.close();
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['token', true],
      ['tenant', true],
      ['users', true],
      ['groups', true],
      ['members', true],
      ['mailboxes', true],
      ['domains', true],
    ]);
    expect(report).toMatchObject({
      ok: true,
      tenantId: TENANT_ID,
      roles: ['User.Read.All', 'GroupMember.Read.All'],
    });
    expect(stub.requests.map((r) => decodeURIComponent(r.url))).toContain(
      `/v1.0/groups/${G1}/members?$select=id&$top=1`,
    );
  });

  it('diagnose: a token without roles → permission_denied on the probes with the consent hint', async () => {
    roles = [];
    const deny: Route = (_req, res) =>
      json(res, 403, {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges to complete the operation.',
        },
      });
    on('/v1.0/users', deny);
    on('/v1.0/groups', deny);
    const c = connector();
    const report = await c.diagnose();
    await c.close();
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ step: 'token', ok: true });
    expect(report.steps[0]?.hint).toContain('admin consent');
    const users = report.steps.find((s) => s.step === 'users');
    expect(users).toMatchObject({ ok: false, code: 'permission_denied' });
    expect(users?.hint).toContain('User.Read.All and GroupMember.Read.All');
    expect(users?.hint).toContain('/v2.0/adminconsent?client_id=');
    expect(report.steps.find((s) => s.step === 'members')).toMatchObject({ skipped: true });
  });

  it('keeps at most `concurrency` requests of a tenant in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const slow =
      (body: () => unknown): Route =>
      (_req, res) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
          inFlight--;
          json(res, 200, body());
        }, 30);
      };
    on(
      '/v1.0/users/delta',
      slow(() => ({
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d1`,
        value: [user(U1)],
      })),
    );
    on(
      '/v1.0/groups/delta',
      slow(() => ({ '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d1`, value: [] })),
    );
    const serial = new GraphConnector(connection(), { concurrency: 1 });
    await serial.readFull();
    await serial.close();
    expect(peak).toBe(1);
    peak = 0;
    const parallel = new GraphConnector(connection(), { concurrency: 4 });
    await parallel.readFull();
    await parallel.close();
    expect(peak).toBe(2); // users and groups side by side
  });

  it('a cursor of another Graph root is not followed (the token would go there): full read instead', async () => {
    const c = connector();
    const full = await c.readFull();
    stub.requests.length = 0;
    const result = await c.readChanges({
      snapshot: full.snapshot,
      cursor: {
        usersDeltaLink: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=x',
        groupsDeltaLink: full.cursor.groupsDeltaLink,
      },
    });
    await c.close();
    expect(result.mode).toBe('full-after-expired-delta');
    expect(stub.requests.some((r) => r.url.includes('deltatoken=x'))).toBe(false);
  });

  it('an untrusted certificate is a tls error, not retried', async () => {
    const c = connector({ caPem: undefined });
    const error = (await c.readFull().catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error.code).toBe('tls');
    expect(waits).toHaveLength(0);
  });

  it('tenantDomains: a domain without isVerified is a malformed payload, not a guess', async () => {
    on('/v1.0/domains', (_req, res) =>
      json(res, 200, { value: [{ id: 'Contoso.com', isVerified: true }, { id: 'fabrikam.com' }] }),
    );
    const c = connector();
    const error = (await c.tenantDomains().catch((e: unknown) => e)) as GraphError;
    await c.close();
    expect(error.code).toBe('malformed_payload');
    expect(error.detail).toContain('domains');
    expect(error.detail).toContain('value[1].isVerified');
  });

  it('an invalid connection is reported by diagnose as the token step', async () => {
    const c = connector({ tenant: 'not a tenant' });
    const report = await c.diagnose();
    expect(report.steps[0]).toMatchObject({ step: 'token', ok: false, code: 'malformed_tenant' });
    await expect(c.readFull()).rejects.toMatchObject({ code: 'malformed_tenant' });
    await c.close();
  });
});

describe('diagnose ends within 20 s whatever the network does (INTERACTIVE patience)', () => {
  const BOUND_MS = 20_000;
  const interactive = (port: number, extra: Partial<GraphConnection> = {}) =>
    new GraphConnector(
      connection({
        authorityHost: `https://127.0.0.1:${port}`,
        graphUrl: `https://127.0.0.1:${port}`,
        ...extra,
      }),
      { patience: INTERACTIVE },
    );

  /** Runs diagnose and close() as App.testConnection does; the duration is only checked as a bound. */
  async function diagnoseTimed(c: GraphConnector) {
    const started = Date.now();
    try {
      return { report: await c.diagnose(), ms: Date.now() - started };
    } finally {
      await c.close();
      expect(Date.now() - started).toBeLessThan(BOUND_MS);
    }
  }

  /** The token step failed naming the host, the tenant step (same host) was not tried again, the rest skipped. */
  function expectUnreachableLogin(
    report: Awaited<ReturnType<GraphConnector['diagnose']>>,
    host: string,
    what: RegExp,
  ) {
    expect(report.ok).toBe(false);
    const [token, tenant, ...rest] = report.steps;
    expect(token).toMatchObject({ step: 'token', ok: false, code: 'network' });
    expect(token?.message).toContain(host);
    expect(token?.message).toMatch(what);
    expect(tenant).toMatchObject({ step: 'tenant', skipped: true });
    expect(tenant?.message).toBe(`not run: ${host} could not be reached in the token step`);
    expect(rest.every((s) => s.skipped)).toBe(true);
  }

  it('a closed port: refused, reported at once', async () => {
    const dead = await closedPort();
    const { report } = await diagnoseTimed(interactive(dead.port));
    expectUnreachableLogin(report, `127.0.0.1:${dead.port}`, /refused the connection \(ECONNREFUSED/);
  });

  it('login reachable, Graph on a closed port: the probes name the Graph host', async () => {
    const dead = await closedPort();
    const c = new GraphConnector(connection({ graphUrl: `https://127.0.0.1:${dead.port}` }), {
      patience: INTERACTIVE,
    });
    const { report } = await diagnoseTimed(c);
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['token', true],
      ['tenant', true],
      ['users', false],
      ['groups', false],
      ['members', false],
      ['mailboxes', true],
      ['domains', true],
    ]);
    const host = `127.0.0.1:${dead.port}`;
    expect(report.steps[2]).toMatchObject({ code: 'network' });
    expect(report.steps[2]?.message).toContain(`${host} refused the connection`);
    expect(report.steps[3]?.message).toBe(`not run: ${host} could not be reached in the users step`);
  });

  it('an HTTPS server that never answers: the test deadline ends it and close() does not wait', async () => {
    on('/contoso.onmicrosoft.com/oauth2/v2.0/token', () => undefined);
    const c = new GraphConnector(connection(), { patience: { ...INTERACTIVE, testDeadlineMs: 2_000 } });
    const { report, ms } = await diagnoseTimed(c);
    const host = new URL(stub.origin).host;
    expectUnreachableLogin(report, host, /did not answer within 2 s \(the connection test stops after 2 s\)/);
    expect(ms).toBeLessThan(INTERACTIVE.requestTimeoutMs);
  });

  describe.concurrent('hosts that time out (run side by side: each waits for its connect timeouts)', () => {
    let silent: DeadHost;
    let full: DeadHost | undefined;
    beforeAll(async () => {
      silent = await silentServer();
      full = await neverConnects();
    });
    afterAll(async () => {
      await silent.close();
      await full?.close();
    });

    it('a TCP server that accepts and never answers (the TLS handshake never completes)', {
      timeout: 25_000,
    }, async () => {
      const { report } = await diagnoseTimed(interactive(silent.port));
      expectUnreachableLogin(
        report,
        `127.0.0.1:${silent.port}`,
        /could not be reached within \d+ s \(UND_ERR_CONNECT_TIMEOUT/,
      );
    });

    it('a port whose connect never completes (full accept queue: SYNs dropped)', {
      timeout: 25_000,
    }, async (ctx) => {
      // Linux drops SYNs to a full accept queue; a kernel that refuses instead cannot produce this case.
      if (!full) return ctx.skip();
      const { report } = await diagnoseTimed(interactive(full.port));
      expectUnreachableLogin(
        report,
        `127.0.0.1:${full.port}`,
        /could not be reached within \d+ s \(UND_ERR_CONNECT_TIMEOUT/,
      );
    });
  });
});

describe('mailbox purposes through $batch (scripted server)', () => {
  const MAILBOX_ROLES = ['User.Read.All', 'GroupMember.Read.All', 'MailboxSettings.Read'];
  const uid = (i: number) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`;
  /** `n` users with a mailbox and sign-in blocked (shared mailboxes, usually), and one person. */
  const blocked = (n: number) => Array.from({ length: n }, (_, i) => user(uid(i), { accountEnabled: false }));
  const PERSON = uid(999);

  type Item = { id: string; status: number; headers?: Record<string, string>; body?: unknown };
  type BatchBody = { requests: Array<{ id: string; method: string; url: string }> };
  /** Every user id the $batch requests asked for, in order, one list per request. */
  let asked: string[][];

  /** Serves `users` in one users round, and answers each $batch item with `answer(userId, attempt)`. */
  function tenant(users: object[], answer: (userId: string, attempt: number) => Omit<Item, 'id'>) {
    const attempts = new Map<string, number>();
    on('/v1.0/users/delta', (_req, res) =>
      json(res, 200, { '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d1`, value: users }),
    );
    on('/v1.0/$batch', (req, res) => {
      const { requests } = JSON.parse(req.body) as BatchBody;
      const ids = requests.map(
        (r) => /^\/users\/([^/]+)\/mailboxSettings\/userPurpose$/.exec(r.url)?.[1] ?? '?',
      );
      asked.push(ids);
      const responses = requests.map((r, i) => {
        const id = ids[i]!;
        const attempt = (attempts.get(id) ?? 0) + 1;
        attempts.set(id, attempt);
        return { id: r.id, ...answer(id, attempt) };
      });
      // Graph answers items in any order.
      json(res, 200, { responses: responses.reverse() });
    });
  }
  const purpose = (value: string) => ({
    status: 200,
    headers: { 'Content-Type': 'application/json' },
    body: { '@odata.context': `${stub.origin}/v1.0/$metadata#users('x')/mailboxSettings/userPurpose`, value },
  });
  const exchangeError = (status: number, code: string, message: string) => ({
    status,
    body: { error: { code, message } },
  });
  const batches = () => stub.requests.filter((r) => r.url.startsWith('/v1.0/$batch'));

  beforeEach(() => {
    roles = MAILBOX_ROLES;
    asked = [];
  });

  it('mixed item answers: purposes read, 429s retried after the longest Retry-After, the rest unknown — the read succeeds', async () => {
    const users = [...blocked(45), user(PERSON)];
    // By position: 404 no mailbox, 429 (Retry-After 2 or 3 s) then 'room', 403 for this mailbox only,
    // an unknown future value, and 'shared' for the rest.
    const kind = (id: string) => Number(id.slice(-12)) % 6;
    tenant(users, (id, attempt) => {
      switch (kind(id)) {
        case 0:
          return exchangeError(
            404,
            'MailboxNotEnabledForRESTAPI',
            'REST API is not yet supported for this mailbox.',
          );
        case 1:
          return attempt === 1
            ? {
                ...exchangeError(
                  429,
                  'ApplicationThrottled',
                  'Application is over its MailboxConcurrency limit.',
                ),
                headers: { 'Retry-After': Number(id.slice(-12)) % 4 === 1 ? '3' : '2' },
              }
            : purpose('room');
        case 2:
          return exchangeError(
            403,
            'ErrorAccessDenied',
            'Access is denied. Check credentials and try again.',
          );
        case 3:
          return purpose('unknownFutureValue');
        default:
          return purpose('shared');
      }
    });
    const c = connector();
    const result = await c.readFull();
    await c.close();

    const ids = users.map((u) => u.id);
    const byKind = (k: number) => ids.filter((id) => id !== PERSON && kind(id) === k);
    const mailboxOf = new Map(result.snapshot.users.map((u) => [u.externalId, u.mailbox]));
    for (const id of byKind(1)) expect(mailboxOf.get(id)).toBe('room');
    for (const id of [...byKind(4), ...byKind(5)]) expect(mailboxOf.get(id)).toBe('shared');
    const unknown = [...byKind(0), ...byKind(2), ...byKind(3)].sort();
    for (const id of unknown) expect(mailboxOf.get(id)).toBeNull();
    expect(mailboxOf.get(PERSON)).toBeNull();

    // ceil(45 / 20) = 3 batches, then one batch of every throttled item, pooled across them.
    expect(asked.map((a) => a.length)).toEqual([20, 20, 5, byKind(1).length]);
    expect(asked.flat().filter((id) => kind(id) !== 1)).toHaveLength(45 - byKind(1).length);
    expect(asked.flat()).not.toContain(PERSON);
    const times = new Map<string, number>();
    for (const id of asked.flat()) times.set(id, (times.get(id) ?? 0) + 1);
    expect(
      [...times]
        .filter(([, n]) => n > 1)
        .map(([id]) => id)
        .sort(),
    ).toEqual(byKind(1).sort());
    expect(Math.max(...times.values())).toBe(2);
    // Each batch with 429s paces its worker by the longest it was asked (the last batch's only one
    // asked 2 s); the pooled re-send then needs no second wait.
    expect(waits.sort()).toEqual([2000, 3000, 3000]);
    expect(result.mailboxes).toEqual({
      needed: 45,
      read: byKind(1).length + byKind(4).length + byKind(5).length,
      unknown,
      denied: false,
      requests: 4,
      issues: expect.arrayContaining([
        {
          cause: 'no_exchange_mailbox',
          users: byKind(0).length,
          detail: expect.stringContaining('MailboxNotEnabledForRESTAPI'),
        },
        {
          cause: 'mailbox_access_denied',
          users: byKind(2).length,
          detail: expect.stringContaining('[ErrorAccessDenied]'),
        },
        {
          cause: 'unrecognized_purpose',
          users: byKind(3).length,
          detail: expect.stringContaining('unknownFutureValue'),
        },
      ]),
    });
    expect(result.mailboxes.issues).toHaveLength(3);
    // users + groups pages, then the batches: the transport counts them all.
    expect(result.stats).toMatchObject({
      requests: 3 + 4,
      pages: 3,
      throttled: byKind(1).length,
      retries: 1,
    });

    const [first] = batches();
    expect(first?.method).toBe('POST');
    expect(first?.headers['content-type']).toBe('application/json');
    expect(first?.headers.authorization).toMatch(/^Bearer ey/);
    const body = JSON.parse(first!.body) as BatchBody;
    expect(body.requests[0]).toEqual({
      id: '1',
      method: 'GET',
      url: `/users/${uid(0)}/mailboxSettings/userPurpose`,
    });
    expect(new Set(body.requests.map((r) => r.id)).size).toBe(body.requests.length);
  });

  it('403 ErrorAccessDenied on a whole batch → permission missing: no further batch, every needed user unknown', async () => {
    tenant(blocked(45), () =>
      exchangeError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
    );
    // concurrency 2 leaves one batch in flight beside the groups round, so the order is fixed.
    const c = new GraphConnector(connection(), { concurrency: 2, sleep: async () => undefined });
    const result = await c.readFull();
    await c.close();
    expect(asked).toHaveLength(1);
    expect(result.mailboxes).toMatchObject({ needed: 45, read: 0, denied: true, requests: 1 });
    expect(result.mailboxes.unknown).toHaveLength(45);
    expect(result.mailboxes.issues).toEqual([
      { cause: 'permission_missing', users: 45, detail: expect.stringContaining('[ErrorAccessDenied]') },
    ]);
    expect(result.snapshot.users.every((u) => u.mailbox === null)).toBe(true);
  });

  it('a token whose roles lack MailboxSettings.Read: no $batch at all, the users unknown, denied', async () => {
    roles = ['User.Read.All', 'GroupMember.Read.All'];
    tenant(blocked(3), () => purpose('shared'));
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(batches()).toHaveLength(0);
    expect(result.mailboxes).toEqual({
      needed: 3,
      read: 0,
      unknown: [uid(0), uid(1), uid(2)],
      denied: true,
      requests: 0,
      issues: [
        { cause: 'permission_missing', users: 3, detail: expect.stringContaining('MailboxSettings.Read') },
      ],
    });
  });

  it('MailboxSettings.ReadWrite is enough too', async () => {
    roles = ['Directory.Read.All', 'MailboxSettings.ReadWrite'];
    tenant(blocked(1), () => purpose('equipment'));
    const c = connector();
    const result = await c.readFull();
    await c.close();
    expect(result.snapshot.users[0]?.mailbox).toBe('equipment');
    expect(result.mailboxes).toMatchObject({ needed: 1, read: 1, unknown: [], denied: false, requests: 1 });
  });

  it('a $batch request that keeps failing (503) is retried by the transport, then recorded: the read still succeeds', async () => {
    tenant(blocked(25), () => purpose('shared'));
    on('/v1.0/$batch', (_req, res) =>
      json(res, 503, { error: { code: 'serviceNotAvailable', message: 'busy' } }),
    );
    const c = new GraphConnector(connection(), {
      concurrency: 2,
      maxRetries: 2,
      sleep: async () => undefined,
    });
    const result = await c.readFull();
    await c.close();
    // 1 + 2 retries of the first batch; the second batch is not sent.
    expect(batches()).toHaveLength(3);
    expect(result.mailboxes).toMatchObject({ needed: 25, read: 0, denied: false, requests: 3 });
    expect(result.mailboxes.unknown).toHaveLength(25);
    expect(result.mailboxes.issues).toEqual([
      {
        cause: 'batch_failed',
        users: 25,
        detail: expect.stringMatching(/^service_unavailable: \[serviceNotAvailable\] busy/),
      },
    ]);
  });

  it('items throttled through every retry stay unknown (bounded), and a Retry-After too long is not waited for', async () => {
    tenant(blocked(2), (id) =>
      id === uid(0)
        ? { ...exchangeError(429, 'TooManyRequests', 'x'), headers: { 'Retry-After': '1' } }
        : { ...exchangeError(429, 'TooManyRequests', 'x'), headers: { 'Retry-After': '3600' } },
    );
    const c = new GraphConnector(connection(), { maxRetries: 3, sleep: async () => undefined });
    const result = await c.readFull();
    await c.close();
    // The longest Retry-After (an hour) is more than a sync waits: no retry at all.
    expect(asked).toHaveLength(1);
    expect(result.mailboxes.issues).toEqual([
      { cause: 'throttled', users: 2, detail: expect.stringContaining('3600') },
    ]);

    stub.requests.length = 0;
    asked = [];
    tenant(blocked(2), () => ({
      ...exchangeError(429, 'TooManyRequests', 'x'),
      headers: { 'Retry-After': '1' },
    }));
    const again = new GraphConnector(connection(), { maxRetries: 3, sleep: async () => undefined });
    const second = await again.readFull();
    await again.close();
    expect(asked).toHaveLength(4);
    expect(second.mailboxes).toMatchObject({ read: 0, requests: 4, unknown: [uid(0), uid(1)] });
    expect(second.mailboxes.issues).toEqual([
      { cause: 'throttled', users: 2, detail: 'still throttled or unavailable after 3 retries' },
    ]);
  });

  /** Routes diagnose's probes: one user (U1), one group with one member; $batch as `item` says. */
  function probes(item: (attempt: number) => Omit<Item, 'id'>) {
    on('/v1.0/users', (_req, res) => json(res, 200, { value: [{ id: U1 }] }));
    on('/v1.0/groups', (req, res) => {
      if (req.url.startsWith(`/v1.0/groups/${G1}/members`))
        return json(res, 200, { value: [{ '@odata.type': '#microsoft.graph.user', id: U1 }] });
      json(res, 200, { value: [{ id: G1 }] });
    });
    tenant([], (_id, attempt) => item(attempt));
  }
  const diagnosis = async () => {
    const c = new GraphConnector(connection(), { patience: INTERACTIVE });
    const report = await c.diagnose();
    await c.close();
    return { report, step: report.steps.find((s) => s.step === 'mailboxes') };
  };

  it('diagnose without MailboxSettings.Read: ok, says what it is for and how to grant it, sends nothing', async () => {
    roles = ['User.Read.All', 'GroupMember.Read.All'];
    probes(() => purpose('user'));
    const { report, step } = await diagnosis();
    expect(report.ok).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual([
      'token',
      'tenant',
      'users',
      'groups',
      'members',
      'mailboxes',
      'domains',
    ]);
    expect(step).toMatchObject({ ok: true });
    expect(step?.message).toContain('MailboxSettings.Read is not granted');
    expect(step?.message).toContain(
      "to tell shared, room and equipment mailboxes with sign-in blocked — which keep receiving mail — from a person's blocked mailbox; without it the organization's rule 'Mailboxes with sign-in blocked' decides",
    );
    expect(step?.hint).toContain(
      'App registrations → the app → API permissions → Add a permission → Microsoft Graph → Application permissions → MailboxSettings.Read',
    );
    expect(step?.hint).toContain('grant admin consent');
    expect(step?.hint).toContain(report.consentUrl);
    expect(report.steps[0]?.hint).toBeUndefined();
    expect(batches()).toHaveLength(0);
  });

  it.each([
    ['a purpose', () => purpose('user'), "(one user's mailbox purpose read)"],
    [
      'no Exchange mailbox',
      () => exchangeError(404, 'MailboxNotEnabledForRESTAPI', 'no'),
      '(the user tried has no Exchange Online mailbox)',
    ],
  ])(
    'diagnose with MailboxSettings.Read: one user read through $batch (%s) → granted',
    async (_name, item, says) => {
      probes(item);
      const { report, step } = await diagnosis();
      expect(report.ok).toBe(true);
      expect(step).toMatchObject({ ok: true });
      expect(step?.message).toContain('MailboxSettings.Read is granted');
      expect(step?.message).toContain(says);
      expect(step?.hint).toBeUndefined();
      expect(asked).toEqual([[U1]]);
    },
  );

  it('diagnose with MailboxSettings.Read that Exchange denies: still ok, not granted, says why it may be', async () => {
    probes(() =>
      exchangeError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.'),
    );
    const { report, step } = await diagnosis();
    expect(report.ok).toBe(true);
    expect(step?.message).toContain(
      "MailboxSettings.Read is not in effect: Exchange denied reading a mailbox's settings ([ErrorAccessDenied] Access is denied.",
    );
    expect(step?.message).toContain('may still be propagating');
    expect(step?.hint).toContain(report.consentUrl);
  });

  it('diagnose: a probe that fails otherwise is still ok and says so', async () => {
    probes(() => purpose('user'));
    on('/v1.0/$batch', (_req, res) =>
      json(res, 500, { error: { code: 'InternalServerError', message: 'boom' } }),
    );
    const { report, step } = await diagnosis();
    expect(report.ok).toBe(true);
    expect(step?.message).toContain('MailboxSettings.Read is granted');
    expect(step?.message).toContain(
      "reading one user's purpose failed: graph_error: [InternalServerError] boom",
    );
  });

  it('a delta read reads only what may have changed; a purpose found counts as a change', async () => {
    const users = blocked(3);
    tenant(users, (id) =>
      id === uid(2) ? exchangeError(404, 'MailboxNotEnabledForRESTAPI', 'no mailbox') : purpose('shared'),
    );
    const c = connector();
    const full = await c.readFull();
    expect(full.snapshot.users.map((u) => u.mailbox)).toEqual(['shared', 'shared', null]);

    // Nothing changed in Entra: only the unknown one is read again — and now it has a mailbox.
    asked = [];
    tenant([], () => purpose('room'));
    on('/v1.0/groups/delta', (_req, res) =>
      json(res, 200, { '@odata.deltaLink': `${stub.origin}/v1.0/groups/delta?$deltatoken=d2`, value: [] }),
    );
    const delta = await c.readChanges(full);
    expect(asked).toEqual([[uid(2)]]);
    expect(delta.snapshot.users.map((u) => u.mailbox)).toEqual(['shared', 'shared', 'room']);
    expect(delta.changes).toBe(1);

    // The first one's mail changed: it alone is read again.
    asked = [];
    on('/v1.0/users/delta', (_req, res) =>
      json(res, 200, {
        '@odata.deltaLink': `${stub.origin}/v1.0/users/delta?$deltatoken=d3`,
        value: [{ id: uid(0), mail: 'renamed@contoso.com' }],
      }),
    );
    const next = await c.readChanges(delta);
    await c.close();
    expect(asked).toEqual([[uid(0)]]);
    expect(next.snapshot.users.map((u) => u.mailbox)).toEqual(['room', 'shared', 'room']);
    expect(next.changes).toBe(2);
    expect(next.mailboxes).toMatchObject({ needed: 1, read: 1, requests: 1 });
  });
});
