import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphRequest, GraphResponse, GraphService } from './graph.js';
import type { HostNames, Site } from './hosts.js';
import type { IdentityResponse, IdentityService } from './identity.js';
import { GraphError } from './odata.js';
import {
  DELTA_EXPIRY_MODES,
  type DeltaExpiryMode,
  EmulatorError,
  type ObjectKind,
  type TenantStore,
} from './tenant.js';
import type { ResourceUnitThrottle } from './throttle.js';

/** Knobs that can change while the emulator runs. */
export interface RuntimeSettings {
  latencyMs: number;
  faultRate: number;
  /** Retry-After (seconds, may be fractional) sent with injected 429/503 faults. */
  faultRetryAfter: number;
  throttle: boolean;
}

/** Request counters for benchmarks and tests. */
export interface Stats {
  requests: number;
  byPath: Record<string, number>;
  throttled: number;
  faults: number;
}

/** A one-shot fault queued by failNext(): where it strikes, its HTTP status, and what it says. */
export interface EmulatorFault {
  /**
   * 'token': the token endpoint; 'graph': any Graph HTTP request (a `$batch` is one); 'page': Graph
   * requests carrying $skiptoken (nextLinks); 'batch-item': one request inside a `$batch`.
   */
  on: 'token' | 'graph' | 'page' | 'batch-item';
  status: number;
  /** Graph's `error.code` (default by status), or on 'token' the OAuth `error` value. */
  code?: string;
  /** Retry-After seconds (fractions allowed); a 429 without it carries `faultRetryAfter`. */
  retryAfter?: number;
  /** How many matching requests it answers (default 1). */
  count?: number;
  /**
   * Graph only: strike only requests whose URL below the version root (e.g.
   * `/users/{id}/mailboxSettings/userPurpose`, a batch item's `url`) contains this text, any case.
   */
  urlContains?: string;
}

const FAULT_TARGETS = ['token', 'graph', 'page', 'batch-item'] as const;

/** Validates a fault given to failNext() or POST /_emulator/fail-next. */
export function parseFault(input: unknown): EmulatorFault {
  const f = (input ?? {}) as Record<string, unknown>;
  const bad = (why: string) => new EmulatorError(400, `fault: ${why}`);
  if (!FAULT_TARGETS.includes(f.on as EmulatorFault['on']))
    throw bad('"on" must be token, graph, page or batch-item');
  if (!Number.isInteger(f.status) || (f.status as number) < 400 || (f.status as number) > 599)
    throw bad('"status" must be an HTTP error status (400-599)');
  if (f.code !== undefined && (typeof f.code !== 'string' || f.code === ''))
    throw bad('"code" must be a string');
  if (f.retryAfter !== undefined && !(typeof f.retryAfter === 'number' && f.retryAfter >= 0))
    throw bad('"retryAfter" must be a number of seconds');
  if (f.count !== undefined && !(Number.isInteger(f.count) && (f.count as number) >= 1))
    throw bad('"count" must be a positive integer');
  if (f.urlContains !== undefined && (typeof f.urlContains !== 'string' || f.urlContains === ''))
    throw bad('"urlContains" must be a non-empty string');
  if (f.urlContains !== undefined && f.on === 'token')
    throw bad('"urlContains" applies to Graph faults only');
  return {
    on: f.on as EmulatorFault['on'],
    status: f.status as number,
    ...(f.code === undefined ? {} : { code: f.code as string }),
    ...(f.retryAfter === undefined ? {} : { retryAfter: f.retryAfter as number }),
    ...(f.count === undefined ? {} : { count: f.count as number }),
    ...(f.urlContains === undefined ? {} : { urlContains: f.urlContains as string }),
  };
}

/** Graph's error code for an injected status when the fault names none. */
const FAULT_CODES: Record<number, string> = {
  400: 'BadRequest',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  503: 'serviceNotAvailable',
  // A 504's body has been seen as {"code":"UnknownError","message":""} (microsoft-graph-docs#2505).
  504: 'UnknownError',
};

/** The message Graph sends with a code (Directory_ExpiredPageToken: MS Q&A 2337800, msgraph-sdk-java#368; docs/emulator.md). */
const FAULT_MESSAGES: Record<string, string> = {
  Directory_ExpiredPageToken:
    'The specified page token value has expired and can no longer be included in your request.',
  TooManyRequests: 'Please retry again later.',
  serviceNotAvailable: 'Service is temporarily unavailable. Please retry after some time.',
  UnknownError: '',
};

const MAX_BODY = 16 * 1024 * 1024;
const GUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function graphDate(): string {
  return new Date().toISOString().slice(0, 19);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new EmulatorError(413, 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The admin operations the HTTP admin API exposes (implemented by index.ts). */
export interface AdminOps {
  info(): unknown;
  tenant: {
    add(kind: ObjectKind, body: Record<string, unknown>): unknown;
    update(kind: ObjectKind, id: string, body: Record<string, unknown>): unknown;
    remove(kind: ObjectKind, id: string, permanent: boolean): void;
    restore(kind: ObjectKind, id: string): unknown;
    list(kind: ObjectKind): unknown[];
    get(kind: ObjectKind, id: string): unknown;
    members(groupId: string): string[];
    addMember(groupId: string, memberId: string): void;
    removeMember(groupId: string, memberId: string): void;
    apps(): unknown[];
    addApp(body: Record<string, unknown>): unknown;
    grantRoles(clientId: string, roles: string[]): unknown;
    setRoles(clientId: string, roles: string[]): unknown;
    expireDeltaTokens(mode: DeltaExpiryMode): void;
    domains(): unknown[];
    addDomain(name: string, verified: boolean): unknown;
    verifyDomain(name: string): unknown;
  };
}

/** HTTP front: identity, Graph, $batch and the admin API on one HTTPS listener. */
export class EmulatorHandler {
  stats: Stats = { requests: 0, byPath: {}, throttled: 0, faults: 0 };
  private readonly queued: Array<{ fault: EmulatorFault; left: number }> = [];

  constructor(
    private readonly hosts: HostNames,
    private readonly store: TenantStore,
    private readonly identity: IdentityService,
    private readonly graph: GraphService,
    private readonly throttle: ResourceUnitThrottle,
    readonly settings: RuntimeSettings,
    private readonly admin: AdminOps,
  ) {}

  resetStats(): void {
    this.stats = { requests: 0, byPath: {}, throttled: 0, faults: 0 };
  }

  /** Queues a one-shot fault; faults strike in the order queued. */
  failNext(input: unknown): void {
    const fault = parseFault(input);
    this.queued.push({ fault, left: fault.count ?? 1 });
  }

  /** Takes the first queued fault aimed at one of `targets` (and at `url`, when it names one), if any. */
  private takeFault(targets: ReadonlyArray<EmulatorFault['on']>, url = ''): EmulatorFault | undefined {
    const lower = url.toLowerCase();
    const i = this.queued.findIndex(
      ({ fault }) =>
        targets.includes(fault.on) &&
        (fault.urlContains === undefined || lower.includes(fault.urlContains.toLowerCase())),
    );
    if (i < 0) return undefined;
    const q = this.queued[i]!;
    if (--q.left === 0) this.queued.splice(i, 1);
    this.stats.faults++;
    return q.fault;
  }

  /** Retry-After of a fault: its own, else `faultRetryAfter` for a 429 (which always says when). */
  private faultRetryAfter(status: number, retryAfter: number | undefined): string | undefined {
    if (retryAfter !== undefined) return String(retryAfter);
    return status === 429 ? String(this.settings.faultRetryAfter) : undefined;
  }

  private count(method: string, path: string): void {
    this.stats.requests++;
    const key = `${method} ${path.replace(GUID_RE, '{id}')}`;
    this.stats.byPath[key] = (this.stats.byPath[key] ?? 0) + 1;
  }

  /** Entry point for node:https. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.dispatch(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        const status = err instanceof EmulatorError ? err.status : 500;
        send(
          res,
          status,
          { 'content-type': 'application/json' },
          JSON.stringify({ error: (err as Error).message }),
        );
      } else {
        res.destroy(err as Error);
      }
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Every URL written in the answer is built on the name the client asked for.
    const site = this.hosts.resolve(req.headers.host);
    if (!site) {
      send(res, 421, { 'content-type': 'text/plain' }, `This server does not serve ${req.headers.host}.`);
      return;
    }
    const url = new URL(req.url ?? '/', site.origin);
    const method = req.method ?? 'GET';
    const segs = url.pathname.split('/').filter(Boolean);
    if (segs[0] === '_emulator' && site.admin) {
      await this.adminRoute(req, res, method, segs.slice(1).map(decodeURIComponent), url);
      return;
    }
    if (this.settings.latencyMs > 0) await sleep(this.settings.latencyMs);
    if ((segs[0] === 'v1.0' || segs[0] === 'beta') && site.graph) {
      this.count(method, `/${segs[0]}/${segs.slice(1).join('/')}`);
      await this.graphRoute(req, res, method, url, site);
      return;
    }
    if (!site.login) {
      send(
        res,
        404,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: 'not_found', error_description: `No route for ${method} ${url.pathname}` }),
      );
      return;
    }
    const tenantPath = `/{tenant}/${segs.slice(1).join('/')}`;
    this.count(method, segs[0] === 'common' ? url.pathname : tenantPath);
    const tenant = decodeURIComponent(segs[0] ?? '');
    const rest = segs.slice(1).join('/');
    let out: IdentityResponse | null = null;
    if (method === 'GET' && tenant === 'common' && rest === 'discovery/instance')
      out = this.identity.instanceDiscovery(site.origin);
    else if (
      method === 'GET' &&
      (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')
    ) {
      out = this.identity.openidConfiguration(site.origin, tenant);
    } else if (method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys'))
      out = await this.identity.jwks(site.origin, tenant);
    else if (method === 'POST' && rest === 'oauth2/v2.0/token') {
      const body = await readBody(req);
      const fault = this.takeFault(['token']);
      out = fault
        ? this.identity.transientError(
            site.origin,
            fault.status,
            this.faultRetryAfter(fault.status, fault.retryAfter),
            fault.code,
          )
        : await this.identity.token(
            site.origin,
            tenant,
            new URLSearchParams(body),
            req.headers.authorization,
          );
    }
    if (!out) {
      send(
        res,
        404,
        { 'content-type': 'application/json' },
        JSON.stringify({ error: 'not_found', error_description: `No route for ${method} ${url.pathname}` }),
      );
      return;
    }
    send(
      res,
      out.status,
      {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store, no-cache',
        ...out.headers,
      },
      JSON.stringify(out.body),
    );
  }

  private envelope(err: GraphError, clientRequestId: string, requestId: string): string {
    const inner: Record<string, unknown> = {
      date: graphDate(),
      'request-id': requestId,
      'client-request-id': clientRequestId,
    };
    return JSON.stringify({ error: { code: err.code, message: err.message, innerError: inner } });
  }

  private baseHeaders(requestId: string, clientRequestId: string): Record<string, string> {
    return {
      'request-id': requestId,
      'client-request-id': clientRequestId,
      'x-ms-ags-diagnostic':
        '{"ServerInfo":{"DataCenter":"Emulator","Slice":"E","Ring":"1","ScaleUnit":"000","RoleInstance":"EMU"}}',
      'odata-version': '4.0',
      'strict-transport-security': 'max-age=31536000',
    };
  }

  private errorResponse(err: GraphError, rid: string, crid: string): GraphResponse {
    return {
      status: err.status,
      headers: { 'content-type': 'application/json', ...err.headers },
      body: this.envelope(err, crid, rid),
    };
  }

  /** Runs one Graph call (HTTP or $batch item) with throttling; never throws. */
  private runGraph(greq: GraphRequest, rid: string, crid: string): GraphResponse {
    let cost = 1;
    try {
      cost = this.graph.cost(greq.path, greq.query);
      const extra: Record<string, string> = { 'x-ms-resource-unit': String(cost) };
      if (this.settings.throttle) {
        const t = this.throttle.charge(greq.appId, cost);
        if (t.usage > 0.8) extra['x-ms-throttle-limit-percentage'] = Math.min(1.8, t.usage).toFixed(1);
        if (!t.allowed) {
          this.stats.throttled++;
          const err = new GraphError(
            429,
            'TooManyRequests',
            `Too many requests from Identifier:${greq.appId}+${this.store.tenantId} under category:throttle.aad.ags.appId.tenant.large. Please try again later.`,
            {
              'retry-after': String(t.retryAfter),
              'x-ms-throttle-scope': `Tenant_Application/ReadWrite/${greq.appId}/${this.store.tenantId}`,
              'x-ms-throttle-information': 'ResourceUnitLimitExceeded',
              ...extra,
            },
          );
          return this.errorResponse(err, rid, crid);
        }
      }
      const out = this.graph.handle(greq);
      out.headers = { ...out.headers, ...extra };
      return out;
    } catch (err) {
      if (err instanceof GraphError) return this.errorResponse(err, rid, crid);
      if (err instanceof EmulatorError)
        return this.errorResponse(new GraphError(err.status, 'Request_BadRequest', err.message), rid, crid);
      return this.errorResponse(
        new GraphError(500, 'InternalServerError', (err as Error).message),
        rid,
        crid,
      );
    }
  }

  /** A random fault at `faultRate`: 429, 503, 504 or a dropped connection, a quarter each. */
  private pickFault(): 429 | 503 | 504 | 'drop' | null {
    if (this.settings.faultRate <= 0 || Math.random() >= this.settings.faultRate) return null;
    this.stats.faults++;
    const r = Math.random();
    return r < 0.25 ? 429 : r < 0.5 ? 503 : r < 0.75 ? 504 : 'drop';
  }

  private randomFaultResponse(status: 429 | 503 | 504, rid: string, crid: string): GraphResponse {
    // Graph's 503s sometimes carry Retry-After and sometimes do not (docs/graph-facts.md §5.1).
    const retryAfter = status === 503 && Math.random() < 0.5 ? this.settings.faultRetryAfter : undefined;
    return this.faultResponse(status, undefined, retryAfter, rid, crid);
  }

  /** Graph's answer to an injected fault: the status with Graph's code and message for it. */
  private faultResponse(
    status: number,
    code: string | undefined,
    retryAfter: number | undefined,
    rid: string,
    crid: string,
  ): GraphResponse {
    const c = code ?? FAULT_CODES[status] ?? 'UnknownError';
    const ra = this.faultRetryAfter(status, retryAfter);
    const headers: Record<string, string> = ra === undefined ? {} : { 'retry-after': ra };
    return this.errorResponse(new GraphError(status, c, FAULT_MESSAGES[c] ?? '', headers), rid, crid);
  }

  private async graphRoute(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    url: URL,
    site: Site,
  ): Promise<void> {
    const rid = randomUUID();
    const crid = String(req.headers['client-request-id'] ?? rid);
    const base = this.baseHeaders(rid, crid);
    const reply = (out: GraphResponse) => send(res, out.status, { ...base, ...out.headers }, out.body);
    const below = `${url.pathname.replace(/^\/(v1\.0|beta)/, '')}${url.search}`;
    const queued = this.takeFault(
      url.searchParams.has('$skiptoken') ? ['graph', 'page'] : ['graph'],
      safeDecode(below),
    );
    if (queued) return reply(this.faultResponse(queued.status, queued.code, queued.retryAfter, rid, crid));
    const fault = this.pickFault();
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault) return reply(this.randomFaultResponse(fault, rid, crid));
    const segs = url.pathname.split('/').filter(Boolean);
    if (segs[0] === 'beta') {
      return reply(
        this.errorResponse(new GraphError(400, 'BadRequest', 'The emulator serves v1.0 only.'), rid, crid),
      );
    }
    const auth = req.headers.authorization ?? '';
    const token = auth.toLowerCase().startsWith('bearer ') ? auth.slice(7).trim() : '';
    const unauthorized = (message: string) =>
      reply({
        ...this.errorResponse(new GraphError(401, 'InvalidAuthenticationToken', message), rid, crid),
        headers: {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="", authorization_uri="${site.login ? site.origin : this.hosts.loginOrigin}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
        },
      });
    if (!token) return unauthorized('Access token is empty.');
    const claims = await this.identity.verify(token);
    if ('error' in claims) return unauthorized(claims.error);
    const path = `/${segs.slice(1).map(decodeURIComponent).join('/')}`;
    const headers = lowerHeaders(req);
    if (path === '/$batch') {
      if (method !== 'POST')
        return reply(
          this.errorResponse(new GraphError(405, 'BadRequest', 'Use POST for $batch.'), rid, crid),
        );
      const raw = await readBody(req);
      return reply(this.batch(raw, claims.appId, new Set(claims.roles), site.origin, rid, crid));
    }
    const body = method === 'GET' ? undefined : await readBody(req);
    reply(
      this.runGraph(
        {
          method,
          path,
          query: url.searchParams,
          headers,
          body,
          roles: new Set(claims.roles),
          appId: claims.appId,
          root: `${site.origin}/v1.0`,
        },
        rid,
        crid,
      ),
    );
  }

  private batch(
    raw: string,
    appId: string,
    roles: ReadonlySet<string>,
    origin: string,
    rid: string,
    crid: string,
  ): GraphResponse {
    const bad = (msg: string) => this.errorResponse(new GraphError(400, 'BadRequest', msg), rid, crid);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      return bad(`Invalid batch payload format: ${(err as Error).message}`);
    }
    const requests = (parsed as { requests?: unknown }).requests;
    if (!Array.isArray(requests)) return bad('Invalid batch payload format.');
    if (requests.length > 20) return bad('Batch request exceeds the maximum of 20 requests.');
    const ids = new Set<string>();
    for (const r of requests as Array<Record<string, unknown>>) {
      const id = String(r.id ?? '').toLowerCase();
      if (!id) return bad('The batch request id is missing.');
      if (ids.has(id)) return bad(`Batch request Ids must be unique, found duplicate id '${r.id}'.`);
      ids.add(id);
      if (typeof r.url !== 'string' || typeof r.method !== 'string')
        return bad('Each batch request needs a method and a url.');
      if (r.body !== undefined && !(r.headers && typeof r.headers === 'object'))
        return bad('Headers are required when a body is present.');
    }
    const results = new Map<string, GraphResponse>();
    const responses: unknown[] = [];
    for (const r of requests as Array<Record<string, unknown>>) {
      const id = String(r.id);
      const deps = Array.isArray(r.dependsOn) ? r.dependsOn.map(String) : [];
      let out: GraphResponse;
      const failedDep = deps.find((d) => {
        const dep = results.get(d.toLowerCase());
        return !dep || dep.status >= 400;
      });
      if (failedDep !== undefined) {
        out = this.errorResponse(new GraphError(424, 'BadRequest', 'Failed dependency'), rid, crid);
      } else {
        out = this.batchItem(r, appId, roles, origin, rid, crid);
      }
      results.set(id.toLowerCase(), out);
      responses.push({ id, status: out.status, headers: batchHeaders(out.headers), body: batchBody(out) });
    }
    return {
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ responses }),
    };
  }

  private batchItem(
    r: Record<string, unknown>,
    appId: string,
    roles: ReadonlySet<string>,
    origin: string,
    rid: string,
    crid: string,
  ): GraphResponse {
    let rel = String(r.url);
    if (/^https?:\/\//i.test(rel)) {
      return this.errorResponse(
        new GraphError(400, 'BadRequest', 'Invalid request URL: batch request URLs must be relative.'),
        rid,
        crid,
      );
    }
    if (!rel.startsWith('/')) rel = `/${rel}`;
    // The JS SDK's BatchRequestContent keeps the version segment; Graph tolerates it.
    rel = rel.replace(/^\/v1\.0(?=\/)/, '');
    const u = new URL(`${origin}/v1.0${rel}`);
    const path = `/${u.pathname.split('/').filter(Boolean).slice(1).map(decodeURIComponent).join('/')}`;
    this.count(`${String(r.method).toUpperCase()}`, `/v1.0${path} ($batch)`);
    const queued = this.takeFault(['batch-item'], safeDecode(rel));
    if (queued) return this.faultResponse(queued.status, queued.code, queued.retryAfter, rid, crid);
    const fault = this.pickFault();
    if (fault) return this.randomFaultResponse(fault === 'drop' ? 503 : fault, rid, crid);
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries((r.headers as Record<string, unknown>) ?? {}))
      headers[k.toLowerCase()] = String(v);
    return this.runGraph(
      {
        method: String(r.method).toUpperCase(),
        path,
        query: u.searchParams,
        headers,
        body: r.body,
        roles,
        appId,
        root: `${origin}/v1.0`,
      },
      rid,
      crid,
    );
  }

  private async adminRoute(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    segs: string[],
    url: URL,
  ): Promise<void> {
    const json = (status: number, body: unknown) =>
      send(
        res,
        status,
        { 'content-type': 'application/json' },
        body === undefined ? '' : JSON.stringify(body),
      );
    const input = async (): Promise<Record<string, unknown>> => {
      const raw = await readBody(req);
      if (!raw) return {};
      try {
        return JSON.parse(raw) as Record<string, unknown>;
      } catch (err) {
        throw new EmulatorError(400, `invalid JSON: ${(err as Error).message}`);
      }
    };
    try {
      const t = this.admin.tenant;
      const [a, b, c, d] = segs;
      const kinds: Record<string, ObjectKind> = {
        users: 'user',
        groups: 'group',
        contacts: 'orgContact',
        devices: 'device',
        'service-principals': 'servicePrincipal',
      };
      if (method === 'GET' && a === 'info' && !b) return json(200, this.admin.info());
      if (a === 'stats' && !b && method === 'GET') return json(200, this.stats);
      if (a === 'stats' && b === 'reset' && method === 'POST') {
        this.resetStats();
        return json(204, undefined);
      }
      if (a === 'settings' && !b && (method === 'PUT' || method === 'PATCH')) {
        const body = await input();
        if (typeof body.latencyMs === 'number') this.settings.latencyMs = body.latencyMs;
        if (typeof body.faultRate === 'number') this.settings.faultRate = body.faultRate;
        if (typeof body.faultRetryAfter === 'number') this.settings.faultRetryAfter = body.faultRetryAfter;
        if (typeof body.throttle === 'boolean') this.settings.throttle = body.throttle;
        return json(200, this.settings);
      }
      if (a === 'settings' && !b && method === 'GET') return json(200, this.settings);
      if (a === 'expire-delta-tokens' && method === 'POST') {
        const mode = (await input()).mode ?? 'syncStateNotFound';
        if (!DELTA_EXPIRY_MODES.includes(mode as DeltaExpiryMode))
          throw new EmulatorError(400, `mode must be one of ${DELTA_EXPIRY_MODES.join(', ')}`);
        t.expireDeltaTokens(mode as DeltaExpiryMode);
        return json(204, undefined);
      }
      if (a === 'fail-next' && !b && method === 'POST') {
        this.failNext(await input());
        return json(204, undefined);
      }
      if (a === 'apps') {
        if (!b && method === 'GET') return json(200, t.apps());
        if (!b && method === 'POST') return json(201, t.addApp(await input()));
        if (b && c === 'roles' && (method === 'POST' || method === 'PUT')) {
          const roles = (await input()).roles;
          if (!Array.isArray(roles)) throw new EmulatorError(400, 'body must be {"roles": [...]}');
          return json(
            200,
            method === 'POST' ? t.grantRoles(b, roles.map(String)) : t.setRoles(b, roles.map(String)),
          );
        }
      }
      if (a === 'domains') {
        if (!b && method === 'GET') return json(200, t.domains());
        if (!b && method === 'POST') {
          const body = await input();
          if (typeof body.name !== 'string') throw new EmulatorError(400, 'body must be {"name": "…"}');
          if (body.verified !== undefined && typeof body.verified !== 'boolean')
            throw new EmulatorError(400, '"verified" must be true or false');
          return json(201, t.addDomain(body.name, body.verified ?? false));
        }
        if (b && c === 'verify' && !d && method === 'POST') return json(200, t.verifyDomain(b));
      }
      const kind = a ? kinds[a] : undefined;
      if (kind) {
        if (!b && method === 'GET') return json(200, t.list(kind));
        if (!b && method === 'POST') return json(201, t.add(kind, await input()));
        if (b && !c && method === 'GET') return json(200, t.get(kind, b));
        if (b && !c && method === 'PATCH') return json(200, t.update(kind, b, await input()));
        if (b && !c && method === 'DELETE') {
          t.remove(kind, b, url.searchParams.get('permanent') === 'true');
          return json(204, undefined);
        }
        if (b && c === 'restore' && method === 'POST') return json(200, t.restore(kind, b));
        if (kind === 'group' && b && c === 'members') {
          if (!d && method === 'GET') return json(200, t.members(b));
          if (!d && method === 'POST') {
            const body = await input();
            const ids = Array.isArray(body.ids) ? body.ids.map(String) : [String(body.id ?? '')];
            for (const id of ids) t.addMember(b, id);
            return json(204, undefined);
          }
          if (d && method === 'DELETE') {
            t.removeMember(b, d);
            return json(204, undefined);
          }
        }
      }
      return json(404, { error: `no admin route ${method} /_emulator/${segs.join('/')}` });
    } catch (err) {
      if (err instanceof EmulatorError) return json(err.status, { error: err.message });
      throw err;
    }
  }
}

/** A URL for matching `urlContains`: percent-decoded where it can be. */
function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function lowerHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers))
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

// Graph spells inner batch headers this way, and the JS SDK's BatchResponseContent looks up
// "Content-Type" case-sensitively.
const BATCH_HEADER_NAMES: Record<string, string> = {
  'content-type': 'Content-Type',
  'retry-after': 'Retry-After',
  'cache-control': 'Cache-Control',
  location: 'Location',
};
function batchHeaders(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = { 'Cache-Control': 'no-cache' };
  for (const [k, v] of Object.entries(h)) out[BATCH_HEADER_NAMES[k] ?? k] = v;
  if (out['Content-Type'] && !('OData-Version' in out)) out['OData-Version'] = '4.0';
  return out;
}

// $count answers plain text; batch responses carry such bodies as strings.
function batchBody(out: GraphResponse): unknown {
  if (!out.body) return undefined;
  return (out.headers['content-type'] ?? '').startsWith('application/json') ? JSON.parse(out.body) : out.body;
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: string | null,
): void {
  const buf = body === null || body === '' ? null : Buffer.from(body, 'utf8');
  res.writeHead(status, { ...headers, 'content-length': String(buf ? buf.length : 0) });
  res.end(buf ?? undefined);
}
