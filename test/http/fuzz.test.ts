import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { CLOUD_NAMES } from '../../src/graph/index.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { systemRuntime } from '../../src/services/clock.js';
import { type ConnectorFactory, defaultConnectorFactory } from '../../src/services/sync.js';
import { HOW_WORDS, WHAT_WORDS } from '../../src/sync/policy.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

/**
 * Every route of the server's own OpenAPI document, fuzzed with fast-check on both databases by
 * four callers (anonymous, an API token, an org admin, an operator). Requests start from the
 * declared path, query and body schemas and are then broken: wrong types, numbers past what a
 * column holds, control characters, huge and deeply nested values, bodies that are not JSON.
 * Whatever arrives, the server refuses or answers: never a 5xx, every refusal in the API's error
 * shape, never a stack trace in the response or in its log (docs/security.md, "Input").
 *
 * A failure prints the request (method, URL, body), the answer, what was logged and fast-check's
 * seed and path; FUZZ_SEED=<seed> draws the same requests again (the seeded objects' ids aside).
 */

const PASSWORD = 'correct horse battery staple';
const OPERATOR_EMAIL = 'ops@service.test';

const CALLERS = ['anonymous', 'token', 'orgAdmin', 'operator'] as const;
type Caller = (typeof CALLERS)[number];
/**
 * Requests per route and caller, about 2,400 per database in all. Anonymous requests and those of
 * a token mostly stop at authentication or share the admin's paths, so they get fewer.
 */
const RUNS: Record<Caller, number> = { anonymous: 6, token: 10, orgAdmin: 22, operator: 22 };
/**
 * Routes slow by design get a third of those: checking or hashing a password (argon2id), ending
 * the caller's session (the next request costs a sign-in), asking the tenant (token, then Graph).
 */
const SLOW_ROUTE =
  /\/auth\/log(in|out)|\/password$|\/entra-settings\/test$|\/verify$|\/sync\/(preview|execute)$/;

const BASE_SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 30));

/** A stack frame (`    at fn (file.ts:1:2)`), an async frame, or the `TypeError: …` heading a stack. */
const STACK_TRACE = /\n\s+at .+:\d+:\d+|\bat async\b|\b\w*Error: /;
/** Database errors quoted to the caller instead of a sentence of ours. */
const DATABASE_TEXT =
  /SQLITE_[A-Z]+|invalid byte sequence|violates .* constraint|syntax error at|out of range for type/;

/** The parts of an OpenAPI 3.0 schema object the generators read. */
interface Schema {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

interface Parameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  schema: Schema;
}

interface Operation {
  method: string;
  /** As the document writes it: `/api/v1/orgs/{org}/users/{id}`. */
  path: string;
  parameters: Parameter[];
  body: Schema | undefined;
}

/** How a request presents its caller's credentials: as issued, without the CSRF header, or forged. */
type Credential = 'proper' | 'no-csrf' | 'forged';

interface FuzzRequest {
  caller: Caller;
  credential: Credential;
  /** The forged cookie, token or CSRF value when `credential` is `forged`. */
  forgery: string;
  method: string;
  url: string;
  contentType: string | undefined;
  payload: string | undefined;
}

interface Session {
  cookie: string;
  csrf: string;
}

/** JSON text put into a body as is: numbers JSON.stringify cannot write, nesting it would overflow on. */
class RawJson {
  constructor(readonly text: string) {}
  toJSON() {
    return `@@raw:${this.text}@@`;
  }
}

const toJsonText = (value: unknown): string =>
  JSON.stringify(value).replace(/"@@raw:(.*?)@@"/g, (_match, text: string) => text);

const clip = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max)}… (${text.length} characters)` : text;

const describeRequest = (r: FuzzRequest) =>
  r.caller +
  (r.credential === 'proper' ? '' : ` (${r.credential} credentials)`) +
  ` ${r.method} ${clip(r.url, 300)}` +
  (r.contentType === undefined ? '' : ` content-type: ${r.contentType}`) +
  (r.payload === undefined ? '' : ` body: ${clip(r.payload, 400)}`);

/** Percent-encodes every byte of the UTF-8 form but the unreserved characters; never throws. */
const encodeSegment = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((byte) => {
      const char = String.fromCharCode(byte);
      return /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');

const deeplyNested = (depth: number) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);

/** Values that no field should take as they are, placed anywhere in a body. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  // Wrong types, and numbers at and past the edges of 32- and 64-bit columns.
  fc.constantFrom<unknown>(
    true,
    false,
    null,
    0,
    -1,
    1.5,
    -0.5,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31) - 1,
    2 ** 32,
    2 ** 53,
    2 ** 63,
    -(2 ** 63),
    2 ** 64,
    1e308,
    -1e308,
    5e-324,
    '',
    ' ',
    '10',
    '-1',
    '1e3',
    'NaN',
    'Infinity',
    'null',
    'true',
    '0x1F',
    [],
    {},
    [null],
    [[[]]],
    { '': null },
  ),
  // Control characters, lone surrogates, direction overrides, injections.
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\u0001',
    '\u0007',
    '\u001b[31m',
    '\u007f',
    '\u0085',
    '\u2028\u2029',
    '\ud800',
    '\udfff',
    '\ufeff',
    '\u202eevil',
    'e\u0301\u0301\u0301',
    '🙂🙂',
    '%00',
    '\\u0000',
    "'; drop table users; --",
    '../../../etc/passwd',
    '<script>x</script>',
  ),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(255, 256, 1_000, 100_000).map((length) => 'x'.repeat(length)),
  fc
    .constantFrom(1_000, 5_000, 20_000)
    .chain((length) => fc.constantFrom<unknown[]>(Array(length).fill('a@b.example'), Array(length).fill(1))),
  fc.constantFrom(64, 1_000, 10_000, 100_000).map(deeplyNested),
  fc
    .constantFrom('1e400', '-1e400', '123456789012345678901234567890', '-0', '1E2', '1e-400')
    .map((text) => new RawJson(text)),
  fc.double(),
);

/** Bodies that are not the JSON a route expects, under all sorts of content types. */
const rawBody = fc.record({
  contentType: fc.constantFrom(
    undefined,
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=latin1',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/xml',
    'application/octet-stream',
    'application/merge-patch+json',
    '',
    ';;;',
  ),
  payload: fc.oneof(
    fc.constantFrom(
      '',
      'null',
      'true',
      '0',
      '"text"',
      '[]',
      '{',
      '{"a":',
      '}',
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{"x":1}}}',
      'a=1&b=2',
      '<x/>',
      '\u0000',
      '\ufeff{}',
      '{"a":1,"a":2}',
      'NaN',
      '1e400',
    ),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.constantFrom(1_000, 100_000).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  ),
});

/** Path segments no route's parameter should take as they are; already percent-encoded. */
const hostileSegment = fc.oneof(
  fc.constantFrom(
    '%00',
    'a%00b',
    '%01',
    '%1F',
    '%7F',
    '%C2%85',
    '%E2%80%A8',
    '9223372036854775808',
    '-9223372036854775809',
    '18446744073709551616',
    '2147483648',
    '-1',
    '0',
    '1e309',
    'NaN',
    'null',
    'undefined',
    'true',
    '%25',
    '%2F',
    '%2e%2e',
    '%20',
    '~',
    '*',
    '%27%20OR%201%3D1',
    '%ED%A0%80',
    '%C0%80',
    '%FF',
    '%zz',
    '%',
    '',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).map(encodeSegment),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(encodeSegment),
  fc.constantFrom(64, 65, 253, 254, 1_000, 10_000).map((length) => 'a'.repeat(length)),
);

/** Query values no parameter should take as they are; already percent-encoded. */
const hostileQueryValue = fc.oneof(
  fc.constantFrom(
    '%00',
    '1%00',
    '',
    '9223372036854775808',
    '9223372036854775807',
    '-9223372036854775809',
    '2147483648',
    '-1',
    '-0',
    '1.5',
    '1e3',
    '1e400',
    'abc',
    'NaN',
    'Infinity',
    'true',
    'null',
    '0x10',
    '+1',
    '%201',
    '%',
    '%zz',
    '%C0%80',
    '%ED%A0%80',
    '[]',
  ),
  fc.string({ unit: 'binary', maxLength: 30 }).map(encodeSegment),
  fc.constantFrom(20, 1_000, 10_000).map((length) => '9'.repeat(length)),
  fc.constantFrom(201, 10_000).map((length) => 'a'.repeat(length)),
);

/** Every node of a JSON value in pre-order (the value itself first), as a path of keys. */
function nodePaths(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object' || value instanceof RawJson) return [path];
  return [
    path,
    ...Object.entries(value).flatMap(([key, item]) =>
      nodePaths(item, [...path, Array.isArray(value) ? Number(key) : key]),
    ),
  ];
}

/** A copy of `value` with the node at `path` replaced, or added when `path` names a new property. */
function replaceAt(value: unknown, path: (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = replaceAt(copy[head], rest, replacement);
  return copy;
}

/** 10.x.y.z from a counter, so each request is its own client for the per-IP rate limits. */
let nextAddress = 1;
const freshAddress = () =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

describe.each(DATABASES)('API fuzz on %s', (kind) => {
  let emulator: Emulator;
  let db: TestDatabase;
  let app: App;
  let server: FastifyInstance;
  const logLines: string[] = [];
  const sessions = {} as Record<'orgAdmin' | 'operator', Session>;
  let token: string;
  /** What the fuzz is pointed at: objects that exist, so requests get past "not found". */
  const world = {
    org: { id: '', domain: '', domains: [] as string[] },
    foreignOrg: { id: '', domain: 'fabrikam-fuzz.example' },
    /** The only organization DELETE /orgs/{org} is given: deleting the others would end the run. */
    doomedOrg: { id: '', domain: '' },
    adminEmail: '',
    victimUser: { id: '', email: '' },
    victimGroupId: '',
    victimTokenId: '',
    planId: '',
    changeIds: [] as string[],
    runId: '',
    syncedUserIds: [] as string[],
  };
  let reseeds = 0;
  let joiners = 0;

  /**
   * The org's "Microsoft" is the emulator on 127.0.0.1, whatever settings the fuzz saved: custom
   * endpoints are off as shipped, and the fuzz may clear them (authorityHost: null) or change the
   * cloud, so the connection is pinned here. Nothing leaves loopback, and a sync the fuzz starts
   * really reads, plans and applies. The credentials are pinned too: Microsoft refusing a secret the
   * fuzz garbled is answered 502 by design (docs/errors.md), which is not what this test looks for.
   */
  const toEmulator: ConnectorFactory = (connection, options) =>
    defaultConnectorFactory(
      {
        ...connection,
        tenant: emulator.info.tenantDomains[0]!,
        clientId: emulator.info.apps[0]!.clientId,
        clientSecret: emulator.info.apps[0]!.clientSecret,
        cloud: 'global',
        authorityHost: emulator.info.authorityHost,
        graphUrl: emulator.info.graphBaseUrl,
        caPem: emulator.info.caPem,
      },
      { ...options, sleep: async () => {} },
    );

  const credentialHeaders = (r: FuzzRequest): Record<string, string> => {
    switch (r.caller) {
      case 'anonymous':
        if (r.credential !== 'forged') return {};
        return r.forgery.length % 2
          ? { cookie: `entrasync_session=${r.forgery}` }
          : { authorization: `Bearer es_${r.forgery}` };
      case 'token':
        return { authorization: `Bearer ${r.credential === 'forged' ? `es_${r.forgery}` : token}` };
      default: {
        const session = sessions[r.caller];
        if (r.credential === 'no-csrf') return { cookie: session.cookie };
        return {
          cookie: session.cookie,
          'x-csrf-token': r.credential === 'forged' ? r.forgery : session.csrf,
        };
      }
    }
  };

  /** A request the test itself makes as the operator, to seed and re-seed. */
  const seedCall = async (
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: object,
  ): Promise<LightMyRequestResponse> =>
    server.inject({
      method,
      url,
      headers: { cookie: sessions.operator.cookie, 'x-csrf-token': sessions.operator.csrf },
      remoteAddress: freshAddress(),
      ...(payload ? { payload } : {}),
    });

  const seedOk = async (...args: Parameters<typeof seedCall>) => {
    const res = await seedCall(...args);
    if (res.statusCode >= 300)
      throw new Error(`seeding ${args[0]} ${args[1]}: ${res.statusCode} ${res.body}`);
    return res.json();
  };

  async function signIn(email: string): Promise<Session> {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password: PASSWORD },
      remoteAddress: freshAddress(),
    });
    if (res.statusCode !== 200) throw new Error(`signing ${email} in: ${res.statusCode} ${res.body}`);
    return { cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: res.json().csrfToken };
  }

  const signedIn = async (session: Session | undefined) =>
    session !== undefined &&
    (
      await server.inject({
        method: 'GET',
        url: '/api/v1/auth/session',
        headers: { cookie: session.cookie },
        remoteAddress: freshAddress(),
      })
    ).statusCode === 200;

  /** Signs the callers in again when the fuzz signed them out (POST /auth/logout, /auth/logout-all). */
  async function ensureCallers() {
    if (!(await signedIn(sessions.operator))) sessions.operator = await signIn(OPERATOR_EMAIL);
    if (!(await signedIn(sessions.orgAdmin))) sessions.orgAdmin = await signIn(world.adminEmail);
  }

  /**
   * Stores a new preview for the fuzz to execute, or exclude changes of: executing one uses it up,
   * and any sync applied after it makes it stale. The fuzz may have switched every category off,
   * so a preview refused keeps the last plan.
   */
  async function refreshPlan() {
    // Someone joins the tenant, so the preview has a change in it.
    const address = `joiner-${++joiners}@${world.org.domain}`;
    emulator.tenant.addUser({
      displayName: `Joiner ${joiners}`,
      userPrincipalName: address,
      mail: address,
      proxyAddresses: [`SMTP:${address}`],
    });
    const res = await seedCall('POST', `/api/v1/orgs/${world.org.id}/sync/preview`, {});
    if (res.statusCode !== 200) return;
    const preview = res.json();
    world.planId = preview.planId;
    const changes = [...preview.usersToAdd, ...preview.usersToUpdate, ...preview.groupsToAdd];
    if (changes.length) world.changeIds = changes.map((c: { id: string }) => c.id);
  }

  /** Puts back what the fuzz may have deleted, so every route keeps objects to act on. */
  async function ensureWorld() {
    await ensureCallers();
    const n = ++reseeds;
    const orgUrl = `/api/v1/orgs/${world.org.id}`;
    if ((await seedCall('GET', `/api/v1/orgs/${world.doomedOrg.id}`)).statusCode !== 200) {
      world.doomedOrg.domain = `doomed-${n}.example`;
      world.doomedOrg.id = (
        await seedOk('POST', '/api/v1/orgs', { name: `Doomed ${n}`, domains: [world.doomedOrg.domain] })
      ).id;
    }
    if ((await seedCall('GET', `${orgUrl}/users/${world.victimUser.id}`)).statusCode !== 200) {
      world.victimUser.email = `victim-${n}@${world.org.domain}`;
      world.victimUser.id = (
        await seedOk('POST', `${orgUrl}/users`, { email: world.victimUser.email, role: 'end_user' })
      ).id;
      await seedOk('PUT', `${orgUrl}/users/${world.victimUser.id}/password`, { password: PASSWORD });
    }
    if ((await seedCall('GET', `${orgUrl}/groups/${world.victimGroupId}`)).statusCode !== 200) {
      world.victimGroupId = (
        await seedOk('POST', `${orgUrl}/groups`, {
          name: `Victims ${n}`,
          kind: 'distribution',
          email: `victims-${n}@${world.org.domain}`,
          members: [world.victimUser.email],
        })
      ).id;
    }
    world.org.domains = (await seedOk('GET', orgUrl)).domains;
    const tokens: { id: string }[] = await seedOk('GET', `${orgUrl}/api-tokens`);
    if (!tokens.some((t) => t.id === world.victimTokenId))
      world.victimTokenId = (await seedOk('POST', `${orgUrl}/api-tokens`, { name: `victim ${n}` })).id;
  }

  beforeAll(async () => {
    emulator = await startEmulator({
      users: 6,
      groups: 3,
      seed: 11,
      domainPrefix: 'fuzzco',
      throttle: false,
    });
    db = await createTestDatabase(kind);
    // As shipped: no ENTRASYNC_ALLOW_CUSTOM_CLOUD, no other permissive flag. Only the name servers
    // are set, to a loopback port that refuses at once: verifying a domain reads its TXT records,
    // and no query may leave the machine.
    const nameServer = `127.0.0.1:${await closedUdpPort()}`;
    const config = loadConfig({ ...db.env, ENTRASYNC_DNS_SERVERS: nameServer });
    expect(config.dnsServers).toEqual([nameServer]);
    app = await openApp(config, systemRuntime, toEmulator);
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logLines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    server = await buildServer(app, { logger: { level: 'info', stream } });

    await app.auth.setOperatorPassword(OPERATOR_EMAIL, PASSWORD);
    sessions.operator = await signIn(OPERATOR_EMAIL);
    world.org.domain = emulator.info.tenantDomains[0]!;
    world.org.id = (await seedOk('POST', '/api/v1/orgs', { name: 'Fuzzco', domains: [world.org.domain] })).id;
    world.foreignOrg.id = (
      await seedOk('POST', '/api/v1/orgs', { name: 'Fabrikam', domains: [world.foreignOrg.domain] })
    ).id;
    const orgUrl = `/api/v1/orgs/${world.org.id}`;
    world.adminEmail = `admin@${world.org.domain}`;
    const admin = await seedOk('POST', `${orgUrl}/users`, { email: world.adminEmail, role: 'org_admin' });
    await seedOk('PUT', `${orgUrl}/users/${admin.id}/password`, { password: PASSWORD });
    sessions.orgAdmin = await signIn(world.adminEmail);
    // Made by the operator, whom no request can remove: the token lives through the whole fuzz.
    token = (await seedOk('POST', `${orgUrl}/api-tokens`, { name: 'fuzz' })).token;

    await seedOk('PUT', `${orgUrl}/entra-settings`, {
      tenant: world.org.domain,
      clientId: emulator.info.apps[0]!.clientId,
      clientSecret: emulator.info.apps[0]!.clientSecret,
    });
    const applied = await seedOk('POST', `${orgUrl}/sync/preview`, {});
    world.runId = (await seedOk('POST', `${orgUrl}/sync/execute`, { planId: applied.planId })).runId;
    world.changeIds = [...applied.usersToAdd, ...applied.groupsToAdd].map((c: { id: string }) => c.id);
    // Not the admin's own id: a new password or role would sign the admin out for good.
    world.syncedUserIds = (await seedOk('GET', `${orgUrl}/users?limit=6`)).items
      .map((u: { id: string }) => u.id)
      .filter((id: string) => id !== admin.id);
    await ensureWorld();
    await refreshPlan();
  });

  afterAll(async () => {
    await server?.close();
    await app?.close();
    await db?.drop();
    await emulator?.close();
  });

  it('answers every route of its OpenAPI document without a 5xx or a stack trace', async () => {
    const started = Date.now();
    const doc = (await server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const operations = operationsOf(doc);
    // An empty or truncated document would make every loop below pass vacuously.
    expect(operations.length).toBeGreaterThan(30);

    /** Ids of every kind of object, so each route also meets ids of the wrong kind. */
    const knownIds = () => [
      world.victimUser.id,
      world.victimGroupId,
      world.victimTokenId,
      world.runId,
      world.planId,
      ...world.changeIds.slice(0, 3),
      ...world.syncedUserIds,
      world.foreignOrg.id,
      randomUUID(),
    ];

    /** Domains of the organizations and of the emulated tenant, and some that are none. */
    const domainPool = () => [
      ...new Set([
        ...world.org.domains,
        ...emulator.info.tenantDomains,
        world.foreignOrg.domain,
        world.doomedOrg.domain,
        'unknown.example',
      ]),
    ];

    /** Realistic strings for a field, by its name, so that valid-looking requests reach the services. */
    const realistic = (key: string): fc.Arbitrary<unknown> | undefined => {
      const local = fc.stringMatching(/^[a-z][a-z0-9.+-]{0,15}$/);
      const domains = [
        ...domainPool(),
        'xn--bcher-kva.example',
        'localhost',
        '127.0.0.1',
        'a..b',
        'FUZZCO.COM',
      ];
      switch (key) {
        case 'email':
        case 'aliases':
          return fc.oneof(
            local.map((l) => `${l}@${world.org.domain}`),
            fc.constantFrom(
              world.victimUser.email,
              'x@elsewhere.example',
              'no-at-sign',
              '@fuzzco.com',
              'a@b',
            ),
          );
        case 'members':
          return fc.oneof(fc.constantFrom(world.victimUser.email, ...knownIds()), local);
        case 'domain':
        case 'domains':
          return fc.oneof(
            fc.constantFrom(...domains),
            local.map((l) => `${l}.example`),
          );
        case 'password':
          return fc.oneof(fc.constant(PASSWORD), fc.string({ minLength: 12, maxLength: 40 }));
        case 'tenant':
          return fc.constantFrom(
            world.org.domain,
            emulator.info.tenantId,
            'common',
            'contoso.onmicrosoft.com',
          );
        case 'clientId':
          return fc.oneof(fc.uuid(), fc.constant(emulator.info.apps[0]!.clientId));
        case 'clientSecret':
          return fc.constantFrom(emulator.info.apps[0]!.clientSecret, 'x~secret');
        case 'secretExpiresAt':
          return fc.constantFrom('2027-06-30', '2027-02-30', '1999-01-01', '9999-12-31', '0000-00-00');
        case 'defaultRole':
        case 'role':
          return fc.constantFrom('end_user', 'silent_user', 'org_admin');
        case 'blockedMailboxes':
          return fc.constantFrom('deliver', 'reject');
        case 'cloud':
          return fc.constantFrom(...CLOUD_NAMES, 'germany');
        case 'authorityHost':
        case 'graphUrl':
          return fc.constantFrom('https://127.0.0.1:1', 'http://127.0.0.1:1');
        case 'what':
          return fc.constantFrom(...WHAT_WORDS);
        case 'how':
          return fc.constantFrom(...HOW_WORDS);
        case 'planId':
          return fc.constant(world.planId);
        case 'excludedChangeIds':
          return fc.constantFrom(...world.changeIds);
        case 'ids':
          return fc.constantFrom(...knownIds());
        // Private and loopback addresses only: refused as shipped, and never a host on the internet.
        case 'webhookUrl':
          return fc.constantFrom(
            'https://127.0.0.1:1/hook',
            'http://127.0.0.1:1/hook',
            'https://[::1]/hook',
            'https://10.0.0.1/hook',
            'https://192.0.2.10/hook',
            'ftp://127.0.0.1/hook',
          );
        default:
          return undefined;
      }
    };

    /** Values the schema allows (realistic ones where the field's name says what it holds). */
    const validValue = (schema: Schema, key: string): fc.Arbitrary<unknown> => {
      if (schema.nullable)
        return fc.oneof(fc.constant(null), validValue({ ...schema, nullable: false }, key));
      const choices = schema.anyOf ?? schema.oneOf;
      if (choices) return fc.oneof(...choices.map((s) => validValue(s, key)));
      if (schema.allOf)
        return validValue(
          {
            type: 'object',
            properties: Object.assign({}, ...schema.allOf.map((s) => s.properties)),
            required: schema.allOf.flatMap((s) => s.required ?? []),
          },
          key,
        );
      if (schema.enum) return fc.constantFrom(...schema.enum);
      switch (schema.type) {
        case 'string': {
          const any = fc.string({
            minLength: schema.minLength ?? 0,
            maxLength: Math.min(schema.maxLength ?? 40, 40),
          });
          const known = realistic(key);
          return known ? fc.oneof({ weight: 4, arbitrary: known }, any) : any;
        }
        case 'integer': {
          const min = schema.minimum ?? -1_000;
          const max = schema.maximum ?? 1_000_000;
          // An unbounded integer allows anything: also the edges of the columns behind it.
          const edges = [schema.minimum, schema.maximum, 0, 1, 6, 24].filter(
            (n): n is number => n !== undefined && n >= min && n <= max,
          );
          const unbounded = schema.minimum === undefined || schema.maximum === undefined;
          // Small numbers too, which settings such as percentages and hours take.
          const small = { min: Math.max(min, 0), max: Math.min(max, 100) };
          return fc.oneof(
            fc.integer({ min, max }),
            ...(small.min <= small.max ? [fc.integer(small)] : []),
            fc.constantFrom(...edges),
            ...(unbounded ? [fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53 - 1, -(2 ** 31) - 1)] : []),
          );
        }
        case 'number':
          return fc.double({ noNaN: true, noDefaultInfinity: true });
        case 'boolean':
          return fc.boolean();
        case 'array':
          return fc.array(validValue(schema.items ?? {}, key), {
            minLength: schema.minItems ?? 0,
            maxLength: Math.min(schema.maxItems ?? 3, 3),
          });
        case 'object': {
          const properties = schema.properties ?? {};
          const required = schema.required ?? [];
          return fc.record(
            Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, validValue(s, name)])),
            { requiredKeys: required.filter((name) => name in properties) },
          );
        }
        default:
          return fc.jsonValue({ maxDepth: 2 });
      }
    };

    const json = (value: unknown) => ({ contentType: 'application/json', payload: toJsonText(value) });
    const noBody = { contentType: undefined, payload: undefined };

    /** A body the route's schema allows; no body at all for routes that declare none. */
    const validBody = (op: Operation) => (op.body ? validValue(op.body, '').map(json) : fc.constant(noBody));

    /** A valid body (any JSON for routes without one) with one node replaced or one property added. */
    const brokenBody = (op: Operation) => {
      const valid = op.body ? validValue(op.body, '') : fc.jsonValue({ maxDepth: 2 });
      const replaced = fc.tuple(valid, fc.nat(), hostileValue).map(([value, at, hostile]) => {
        const paths = nodePaths(value);
        return json(replaceAt(value, paths[at % paths.length]!, hostile));
      });
      const extended = fc
        .tuple(valid, fc.nat(), fc.string({ minLength: 1, maxLength: 20 }), hostileValue)
        .map(([value, at, name, hostile]) => {
          const objects = nodePaths(value).filter((path) => {
            const node = path.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], value);
            return node !== null && typeof node === 'object' && !Array.isArray(node);
          });
          const path = objects[at % Math.max(objects.length, 1)];
          return json(path ? replaceAt(value, [...path, name], hostile) : [value, hostile]);
        });
      return fc.oneof({ weight: 4, arbitrary: replaced }, { weight: 1, arbitrary: extended });
    };

    /** Ids of the kind a route's `{id}` names (the segment before it), and now and then of another kind. */
    const idsFor = (op: Operation): string[] => {
      const kind = /\/([^/]+)\/\{id\}/.exec(op.path)?.[1];
      const ofKind: Record<string, string[]> = {
        users: [world.victimUser.id, ...world.syncedUserIds],
        groups: [world.victimGroupId],
        'api-tokens': [world.victimTokenId],
        runs: [world.runId],
      };
      return ofKind[kind ?? ''] ?? knownIds();
    };

    const knownSegment = (name: string, op: Operation): fc.Arbitrary<string> => {
      let known: string[];
      if (name === 'org')
        known =
          op.method === 'DELETE' && op.path === '/api/v1/orgs/{org}'
            ? [world.doomedOrg.id, world.doomedOrg.domain]
            : [world.org.id, world.org.domain, world.org.domain.toUpperCase(), world.foreignOrg.id];
      else if (name === 'domain') known = domainPool();
      else if (name === 'id')
        return fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...idsFor(op)) },
          fc.constantFrom(...knownIds()),
        );
      else known = knownIds();
      return fc.constantFrom(...known.map(encodeSegment));
    };

    /** Some of the declared query parameters, each with a value its schema allows. */
    const validQuery = (op: Operation): fc.Arbitrary<string[]> =>
      fc
        .tuple(
          ...op.parameters
            .filter((p) => p.in === 'query')
            .map((p) =>
              fc.option(
                validValue(p.schema, p.name).map((v) => `${p.name}=${encodeSegment(String(v))}`),
                { freq: 2 },
              ),
            ),
        )
        .map((pairs) => pairs.filter((pair): pair is string => pair !== null));

    /** A valid query plus one hostile pair: a declared parameter (maybe repeated) or an undeclared one. */
    const brokenQuery = (op: Operation): fc.Arbitrary<string[]> => {
      const names = op.parameters.filter((p) => p.in === 'query').map((p) => p.name);
      return fc
        .tuple(
          validQuery(op),
          fc.constantFrom(...names, 'unknown', '%00', '__proto__', 'constructor', 'limit[]'),
          hostileQueryValue,
        )
        .map(([pairs, name, value]) => [...pairs, `${name}=${value}`]);
    };

    /**
     * A well-formed request, or one broken in a single place — the path, the query, the body, the
     * content or the credentials — so that most requests get past the first check and the one that
     * fails says which part the server could not take.
     */
    const requestOf = (op: Operation, caller: Caller): fc.Arbitrary<FuzzRequest> => {
      const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const segments = fc.tuple(...names.map((name) => knownSegment(name, op)));
      const brokenSegments = fc
        .tuple(segments, fc.nat(), hostileSegment)
        .map(([valid, at, hostile]) =>
          valid.map((segment, i) => (i === at % valid.length ? hostile : segment)),
        );
      const proper = fc.constant<Credential>('proper');
      const badCredential: fc.Arbitrary<Credential> =
        caller === 'anonymous' ? fc.constant('forged') : fc.constantFrom('no-csrf', 'forged');
      const parts = (
        broken: Partial<Record<'segments' | 'query' | 'body' | 'credential', fc.Arbitrary<unknown>>>,
      ) =>
        fc.record({
          segments: (broken.segments ?? segments) as fc.Arbitrary<string[]>,
          query: (broken.query ?? validQuery(op)) as fc.Arbitrary<string[]>,
          body: (broken.body ?? validBody(op)) as fc.Arbitrary<{ contentType?: string; payload?: string }>,
          credential: (broken.credential ?? proper) as fc.Arbitrary<Credential>,
          forgery: fc.oneof(
            fc.string({ unit: 'grapheme-ascii', maxLength: 80 }),
            fc.constantFrom('A'.repeat(40), '', 'x'.repeat(5_000)),
          ),
        });
      return fc
        .oneof(
          { weight: 3, arbitrary: parts({}) },
          ...(names.length ? [{ weight: 2, arbitrary: parts({ segments: brokenSegments }) }] : []),
          { weight: 2, arbitrary: parts({ query: brokenQuery(op) }) },
          { weight: op.body ? 5 : 1, arbitrary: parts({ body: brokenBody(op) }) },
          { weight: 2, arbitrary: parts({ body: rawBody }) },
          { weight: 1, arbitrary: parts({ credential: badCredential }) },
        )
        .map(({ segments, query, body, credential, forgery }) => {
          let i = 0;
          const path = op.path.replace(/\{\w+\}/g, () => segments[i++]!);
          const request: FuzzRequest = {
            caller,
            credential,
            forgery,
            method: op.method,
            url: query.length ? `${path}?${query.join('&')}` : path,
            contentType: body.contentType,
            payload: body.payload,
          };
          return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
        });
    };

    const statuses = new Map<string, Map<number, number>>();
    let sent = 0;
    // Log lines up to logChecked were looked at; lines logged between requests (re-seeding, work
    // finishing after an answer) are kept apart and looked at once at the end.
    let logChecked = 0;
    const loggedBetween: string[] = [];

    /** Sends one request; returns what was wrong with the answer, if anything. */
    const send = async (r: FuzzRequest, route: string): Promise<string | undefined> => {
      const logFrom = logLines.length;
      loggedBetween.push(...logLines.slice(logChecked, logFrom));
      const res = await server.inject({
        method: r.method as 'GET',
        url: r.url,
        headers: {
          ...credentialHeaders(r),
          ...(r.contentType === undefined ? {} : { 'content-type': r.contentType }),
        },
        remoteAddress: freshAddress(),
        ...(r.payload === undefined ? {} : { payload: r.payload }),
      });
      sent++;
      const counts = statuses.get(route) ?? new Map<number, number>();
      counts.set(res.statusCode, (counts.get(res.statusCode) ?? 0) + 1);
      statuses.set(route, counts);
      // Signing out is among the routes fuzzed: sign the callers in again for the next request.
      if (r.url.startsWith('/api/v1/auth/logout')) await ensureCallers();
      const problems: string[] = [];
      if (res.statusCode >= 500) problems.push(`a ${res.statusCode}`);
      if (STACK_TRACE.test(res.body)) problems.push('a stack trace in the response');
      if (res.statusCode < 500 && DATABASE_TEXT.test(res.body))
        problems.push('a database error in the response');
      if (res.statusCode >= 400 && !errorShaped(res.body))
        problems.push('a refusal not shaped {"error": {"code", "message"}} (docs/errors.md)');
      logChecked = logLines.length;
      const logged = logLines.slice(logFrom, logChecked).filter(alarming);
      if (logged.length) problems.push(`logged:\n${clip(logged.join('\n'), 2_000)}`);
      return problems.length
        ? `${describeRequest(r)}\n→ ${res.statusCode} ${clip(res.body, 500)}\n${problems.join('; ')}`
        : undefined;
    };

    const failures: string[] = [];
    let mayHaveChanged = true;
    for (const [index, op] of operations.entries()) {
      const route = `${op.method} ${op.path}`;
      for (const caller of CALLERS) {
        // Only requests that change something can have deleted what the next ones need.
        if (mayHaveChanged) await ensureWorld();
        mayHaveChanged = op.method !== 'GET';
        if (op.body?.properties?.planId) await refreshPlan();
        const seed = BASE_SEED + index * CALLERS.length + CALLERS.indexOf(caller);
        try {
          await fc.assert(
            fc.asyncProperty(requestOf(op, caller), async (r) => {
              const problem = await send(r, route);
              if (problem) throw new Error(problem);
            }),
            { numRuns: Math.ceil(RUNS[caller] / (SLOW_ROUTE.test(op.path) ? 3 : 1)), seed },
          );
        } catch (error) {
          // fast-check reports the seed, path and shrunk request; the property's own error is its cause.
          const { message, cause } = error as Error;
          const problem = (cause as Error | undefined)?.message ?? '';
          failures.push(`${route} as ${caller} (FUZZ_SEED=${BASE_SEED}):\n${message}\n${problem}`);
        }
      }
    }
    const between = [...loggedBetween, ...logLines.slice(logChecked)].filter(alarming);
    if (between.length) failures.push(`logged outside a fuzzed request:\n${clip(between.join('\n'), 3_000)}`);

    const summary = [...statuses].map(
      ([route, counts]) => `${route}: ${[...counts].map(([status, n]) => `${status}×${n}`).join(' ')}`,
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.info(
      `API fuzz on ${kind}: ${sent} requests over ${operations.length} routes in ${seconds} s (FUZZ_SEED=${BASE_SEED})`,
    );
    expect(failures, failures.join('\n\n')).toEqual([]);
    // A fuzz that never got past authentication or validation proves little: most routes must
    // have answered a well-formed request with success at least once.
    const succeeded = [...statuses.values()].filter((counts) => [...counts.keys()].some((s) => s < 300));
    expect(succeeded.length, summary.join('\n')).toBeGreaterThan(operations.length * 0.7);
    expect(sent).toBeGreaterThan(2_000);
  }, 240_000);
});

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then let go). */
async function closedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

function operationsOf(doc: {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema: Schema }> } }
    >
  >;
}): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.has(method))
      .map(([method, op]) => ({
        method: method.toUpperCase(),
        path,
        parameters: op.parameters ?? [],
        body: op.requestBody?.content?.['application/json']?.schema,
      })),
  );
}

/** Whether a body is the API's error answer, `{"error": {"code", "message", "field"?}}`. */
function errorShaped(body: string): boolean {
  try {
    const { error } = JSON.parse(body);
    return typeof error?.code === 'string' && typeof error.message === 'string';
  } catch {
    return false;
  }
}

/** Every string of a log entry, so a stack inside `err.stack` is seen with its real line breaks. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

/** A log line of a failure: warn or above, a stack trace, or anything pino would not write. */
function alarming(line: string): boolean {
  let entry: { level?: number };
  try {
    entry = JSON.parse(line);
  } catch {
    return true;
  }
  return (entry.level ?? 0) >= 40 || STACK_TRACE.test(stringsOf(entry).join('\n'));
}
