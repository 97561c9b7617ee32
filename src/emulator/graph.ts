import { randomUUID } from 'node:crypto';
import { DOMAIN_READ, domainJson, isInitialDomain, parseDomainQuery, supportedServices } from './domains.js';
import {
  hasMailbox,
  MAILBOX_SETTINGS_READ,
  mailboxAccessDenied,
  mailboxNotEnabled,
  mailboxSettingsOf,
  mailboxSettingsProperty,
  mailboxUserNotFound,
} from './mailbox.js';
import {
  type CompiledFilter,
  checkCollectionSelect,
  compileFilter,
  DEFAULT_SELECT,
  GraphError,
  isCollection,
  isProperty,
  parseSelect,
  parseSelectList,
  parseTop,
  TYPE_NAME,
} from './odata.js';
import type { DirObject, ObjectKind, TenantStore } from './tenant.js';
import { isGuid } from './tenant.js';

/** A Graph request after authentication, independent of HTTP (also used for $batch items). */
export interface GraphRequest {
  method: string;
  /** Path below the version root, e.g. `/users/delta` (percent-decoded). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  body: unknown;
  roles: ReadonlySet<string>;
  appId: string;
  /** The version root the request came to, e.g. `https://graph.microsoft.com/v1.0`: every link is built on it. */
  root: string;
}

/** A Graph response: status, headers and a serialized body. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body: string | null;
}

/** How a soft-deleted object appears in delta: `{id, @removed}` (documented) or with its selected properties too. */
export type SoftDeletedInDelta = 'id' | 'properties';

/** Tunables of Graph that have no query parameter. */
export interface GraphLimits {
  /** Objects per delta page (Graph: 200 for directory objects). */
  deltaPageSize: number;
  /** members@delta entries per delta page (Graph: 500 directory links). */
  deltaMembersPerPage: number;
  softDeletedInDelta: SoftDeletedInDelta;
}

const USER_READ = [
  'User.Read.All',
  'User.ReadWrite.All',
  'User.ReadBasic.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const GROUP_READ = [
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];
const MEMBER_LIST = [...GROUP_READ, 'GroupMember.ReadBasic.All'];
const READ_BY_KIND: Record<ObjectKind, string[]> = {
  user: USER_READ,
  group: MEMBER_LIST,
  orgContact: ['OrgContact.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  device: ['Device.Read.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  servicePrincipal: [
    'Application.Read.All',
    'Application.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
};
const ORG_READ = [
  'Organization.Read.All',
  'Organization.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

const JSON_TYPE =
  'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';
const DELTA_TOKEN_TTL_MS = 7 * 24 * 3600_000;

function can(roles: ReadonlySet<string>, needed: string[]): boolean {
  return needed.some((r) => roles.has(r));
}

function denied(): GraphError {
  return new GraphError(
    403,
    'Authorization_RequestDenied',
    'Insufficient privileges to complete the operation.',
  );
}

function notFound(id: string): GraphError {
  return new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

function segmentNotFound(seg: string): GraphError {
  return new GraphError(400, 'BadRequest', `Resource not found for the segment '${seg}'.`);
}

/** Token payloads are base64url JSON: opaque to clients, stateless for the emulator. */
function encodeToken(state: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(state)).toString('base64url');
}

function decodeToken(raw: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as unknown;
    if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
  } catch (err) {
    throw new GraphError(400, 'Request_BadRequest', `Invalid skip or delta token: ${(err as Error).message}`);
  }
  throw new GraphError(400, 'Request_BadRequest', 'Invalid skip or delta token.');
}

/** Serializes objects once per projection; pages are joins of cached strings. */
function project(
  obj: DirObject,
  select: string[] | null,
  opts: { withType?: boolean; limited?: boolean } = {},
): string {
  const key = `${opts.withType ? 't' : ''}${opts.limited ? 'l' : ''}|${select ? select.join(',') : ''}`;
  const hit = obj.cache.get(key);
  if (hit !== undefined) return hit;
  const props = select ?? DEFAULT_SELECT[obj.kind];
  const parts: string[] = [];
  if (opts.withType) parts.push(`"@odata.type":"#microsoft.graph.${TYPE_NAME[obj.kind]}"`);
  for (const p of props) {
    if (!isProperty(obj.kind, p)) continue;
    let v: unknown;
    if (p === 'id') v = obj.id;
    else if (opts.limited) v = isCollection(obj.kind, p) ? [] : null;
    // Exchange answers for mailboxSettings (one() has checked the mailbox and the permission).
    else if (p === 'mailboxSettings' && obj.kind === 'user') v = mailboxSettingsOf(obj.props);
    else {
      v = obj.props[p];
      if (v === undefined) v = isCollection(obj.kind, p) ? [] : null;
    }
    parts.push(`${JSON.stringify(p)}:${JSON.stringify(v)}`);
  }
  const json = `{${parts.join(',')}}`;
  obj.cache.set(key, json);
  return json;
}

/**
 * The delta representation of `props` (id first): a null property that was never set is left out
 * ("If the property has never been set before it will not be included in the response at all",
 * user-delta); collections are never null, so an unset one is `[]`.
 */
function deltaJson(obj: DirObject, props: string[]): string {
  const key = `d|${props.join(',')}`;
  const hit = obj.cache.get(key);
  if (hit !== undefined) return hit;
  const parts: string[] = [];
  for (const p of props) {
    if (!isProperty(obj.kind, p)) continue;
    let v = p === 'id' ? obj.id : obj.props[p];
    if (v === undefined || v === null) {
      if (isCollection(obj.kind, p)) v = [];
      else if (!obj.everSet.has(p)) continue;
      else v = null;
    }
    parts.push(`${JSON.stringify(p)}:${JSON.stringify(v)}`);
  }
  const json = `{${parts.join(',')}}`;
  obj.cache.set(key, json);
  return json;
}

/** The properties a delta round serves: its $select without `members` (id always first), or the default set. */
function deltaProps(kind: ObjectKind, select: string[] | null): string[] {
  const props = select ? select.filter((p) => p !== 'members' && p !== 'id') : DEFAULT_SELECT[kind];
  return ['id', ...props.filter((p) => p !== 'id')];
}

/** True when the request asks for only the changed properties (user-delta "Prefer: return=minimal"). */
function wantsMinimal(req: GraphRequest): boolean {
  return /(^|[\s,;])return=minimal\b/i.test(req.headers.prefer ?? '');
}

function memberRef(obj: DirObject | undefined, id: string, removed: boolean): string {
  const type = obj ? TYPE_NAME[obj.kind] : 'directoryObject';
  return removed
    ? `{"@odata.type":"#microsoft.graph.${type}","id":"${id}","@removed":{"reason":"deleted"}}`
    : `{"@odata.type":"#microsoft.graph.${type}","id":"${id}"}`;
}

function collection(context: string, values: string[], extra: Record<string, unknown>): string {
  let head = `{"@odata.context":${JSON.stringify(context)}`;
  for (const [k, v] of Object.entries(extra))
    if (v !== undefined) head += `,${JSON.stringify(k)}:${JSON.stringify(v)}`;
  return `${head},"value":[${values.join(',')}]}`;
}

function ok(body: string, headers: Record<string, string> = {}): GraphResponse {
  return { status: 200, headers: { 'content-type': JSON_TYPE, ...headers }, body };
}

function eventual(req: GraphRequest): boolean {
  return (req.headers.consistencylevel ?? '').toLowerCase() === 'eventual';
}

type ListResource = { kind: 'user' | 'group'; slots: Array<DirObject | undefined> };

/** Graph v1.0 for one tenant: routing, queries, paging, delta. */
export class GraphService {
  private readonly deltaListCache = new Map<string, Array<[string, Set<string> | null]>>();
  private readonly sortCache = new Map<string, { v: number; ids: DirObject[] }>();

  constructor(
    private readonly store: TenantStore,
    private readonly limits: GraphLimits,
  ) {}

  /** Resource units this request costs (docs/graph-facts.md §5.2). */
  cost(path: string, query: URLSearchParams): number {
    const segs = path.split('/').filter(Boolean);
    let c = 1;
    if (segs[0] === 'users') c = 2;
    if (segs[0] === 'groups' && segs[2] === 'members') c = 3;
    if (segs[0] === 'groups' && segs[2] === 'transitiveMembers') c = 5;
    if (query.has('$select')) c -= 1;
    if (query.has('$expand')) c += 1;
    const top = Number(query.get('$top'));
    if (query.has('$top') && top < 20) c -= 1;
    return Math.max(1, c);
  }

  /** Routes one request; throws GraphError for Graph-shaped failures. */
  handle(req: GraphRequest): GraphResponse {
    const segs = req.path.split('/').filter(Boolean);
    if (req.method !== 'GET') {
      throw new GraphError(
        405,
        'Request_BadRequest',
        `The HTTP method '${req.method}' is not supported by this emulator route.`,
      );
    }
    const [root, second, third, fourth] = segs;
    // Graph hands mailboxSettings to Exchange: its own permission, no directory permission needed.
    if (root === 'users' && second !== undefined && third?.toLowerCase() === 'mailboxsettings') {
      return this.mailboxSettings(req, second, segs.slice(3));
    }
    if (root === 'users' || root === 'groups') {
      const kind = root === 'users' ? 'user' : 'group';
      if (!can(req.roles, kind === 'user' ? USER_READ : GROUP_READ)) throw denied();
      if (second === undefined) return this.list(req, kind);
      if (second === '$count' && segs.length === 2) return this.count(req, kind);
      if (
        (second === 'delta' || second === 'microsoft.graph.delta' || second === 'delta()') &&
        segs.length === 2
      ) {
        return this.delta(req, kind);
      }
      const obj = this.lookup(kind, second);
      if (third === undefined) return this.one(req, obj);
      if (kind === 'group' && (third === 'members' || third === 'transitiveMembers')) {
        if (!can(req.roles, MEMBER_LIST)) throw denied();
        return this.members(req, obj, third === 'transitiveMembers', fourth, segs.slice(4));
      }
      throw segmentNotFound(third);
    }
    if (root === 'organization' && segs.length === 1) {
      if (!can(req.roles, ORG_READ)) throw denied();
      return this.organization(req);
    }
    if (root === 'domains') {
      if (!can(req.roles, DOMAIN_READ)) throw denied();
      if (second === undefined) return this.domainList(req);
      if (third === undefined) return this.domain(req, second);
      throw segmentNotFound(third);
    }
    throw segmentNotFound(root ?? '');
  }

  /** The live object addressed by `key` (id, or UPN for users); 400 for a key that is neither. */
  private find(kind: 'user' | 'group', key: string): DirObject | undefined {
    let obj: DirObject | undefined;
    if (isGuid(key)) obj = this.store.get(key);
    else if (kind === 'user' && key.includes('@')) {
      const k = key.toLowerCase();
      obj = this.store.users.find(
        (u) => u && !u.deleted && String(u.props.userPrincipalName).toLowerCase() === k,
      );
    } else {
      throw new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${key}'.`);
    }
    return obj && obj.kind === kind ? obj : undefined;
  }

  private lookup(kind: 'user' | 'group', key: string): DirObject {
    const obj = this.find(kind, key);
    if (!obj) throw notFound(key);
    return obj;
  }

  /** Exchange's checks before it reads a mailbox: the app's permission, then the mailbox itself. */
  private checkMailbox(req: GraphRequest, user: DirObject): void {
    if (!can(req.roles, MAILBOX_SETTINGS_READ)) throw mailboxAccessDenied();
    if (!hasMailbox(user.props)) throw mailboxNotEnabled();
  }

  /**
   * `/users/{id|upn}/mailboxSettings[/{property}]` (user-get-mailboxsettings): the whole settings
   * (optionally `$select`ed), or one property — a complex one as an object, a primitive or enum one
   * (userPurpose) as `{"value"}` — with the context naming the user as the request did.
   */
  private mailboxSettings(req: GraphRequest, key: string, rest: string[]): GraphResponse {
    // Graph finds the user in the directory before it asks Exchange, which then checks the rest.
    const user = this.find('user', key);
    if (!user) throw mailboxUserNotFound();
    this.checkMailbox(req, user);
    const settings = mailboxSettingsOf(user.props);
    // OData key literal: quotes doubled; Exchange percent-encodes the rest (users('a.b%40contoso.com')).
    const literal = encodeURIComponent(key).replace(/'/g, "''");
    const base = `${req.root}/$metadata#users('${literal}')/mailboxSettings`;
    if (rest.length === 0) {
      const select = parseMailboxSettingsSelect(req.query.get('$select'));
      const ctx = select ? `${base}(${select.join(',')})` : base;
      const body: Record<string, unknown> = { '@odata.context': ctx };
      for (const p of select ?? Object.keys(settings)) body[p] = settings[p];
      return ok(JSON.stringify(body));
    }
    const prop = mailboxSettingsProperty(rest[0]!);
    if (!prop) throw segmentNotFound(rest[0]!);
    if (rest.length > 1) throw segmentNotFound(rest[1]!);
    const value = settings[prop];
    const ctx = `${base}/${prop}`;
    const body =
      value !== null && typeof value === 'object'
        ? { '@odata.context': ctx, ...value }
        : { '@odata.context': ctx, value };
    return ok(JSON.stringify(body));
  }

  private one(req: GraphRequest, obj: DirObject): GraphResponse {
    const select = parseSelect(obj.kind, req.query.get('$select'));
    // "$select=mailboxSettings" on one user is the other documented way to read it (user resource).
    if (obj.kind === 'user' && select?.includes('mailboxSettings')) this.checkMailbox(req, obj);
    const ctx = `${req.root}/$metadata#${obj.kind}s${select ? `(${select.join(',')})` : ''}/$entity`;
    const json = project(obj, select);
    return ok(`{"@odata.context":${JSON.stringify(ctx)},${json.slice(1)}`);
  }

  private organization(req: GraphRequest): GraphResponse {
    const s = this.store;
    const org = {
      id: s.tenantId,
      displayName: s.displayName,
      verifiedDomains: s.domains.map((d, i) => ({
        capabilities: supportedServices(d, true).join(', '),
        isDefault: i === 0,
        isInitial: isInitialDomain(d),
        name: d,
        type: 'Managed',
      })),
    };
    return ok(collection(`${req.root}/$metadata#organization`, [JSON.stringify(org)], {}));
  }

  /** `/domains` (domain-list): every domain of the tenant, verified or not, on one page. */
  private domainList(req: GraphRequest): GraphResponse {
    const select = parseDomainQuery(req.query);
    const defaultName = this.store.domains[0];
    const values = this.store.listDomains().map((d) => domainJson(d, d.name === defaultName, select));
    const ctx = `${req.root}/$metadata#domains${select ? `(${select.join(',')})` : ''}`;
    return ok(collection(ctx, values, {}));
  }

  /** `/domains/{name}` (domain-get): the id is the domain's name, matched in any case. */
  private domain(req: GraphRequest, name: string): GraphResponse {
    const select = parseDomainQuery(req.query);
    const domain = this.store.findDomain(name);
    if (!domain) throw notFound(name);
    const json = domainJson(domain, domain.name === this.store.domains[0], select);
    const ctx = `${req.root}/$metadata#domains${select ? `(${select.join(',')})` : ''}/$entity`;
    return ok(`{"@odata.context":${JSON.stringify(ctx)}${json.length > 2 ? ',' : ''}${json.slice(1)}`);
  }

  private filterFor(req: GraphRequest, kind: 'user' | 'group'): CompiledFilter | null {
    const raw = req.query.get('$filter');
    if (raw === null || raw.trim() === '') return null;
    const advancedAllowed = eventual(req) && (req.query.get('$count') ?? '').toLowerCase() === 'true';
    return compileFilter(kind, raw, advancedAllowed);
  }

  private searchFor(req: GraphRequest): ((p: Record<string, unknown>) => boolean) | null {
    const raw = req.query.get('$search');
    if (raw === null) return null;
    if (!eventual(req)) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
      );
    }
    const clauses = [...raw.matchAll(/"([A-Za-z]+):([^"]*)"/g)].map(
      (m) => [m[1]!, m[2]!.toLowerCase()] as const,
    );
    if (clauses.length === 0) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        "Syntax error: character '\"' is not valid at position 0 in '$search'.",
      );
    }
    const any = /\bOR\b/.test(raw);
    return (p) => {
      const hits = clauses.map(([prop, term]) => {
        const v = p[prop];
        if (typeof v !== 'string') return false;
        // $search tokenizes on word boundaries and matches prefixes of words.
        return (
          v
            .toLowerCase()
            .split(/[\s._@-]+/)
            .some((w) => w.startsWith(term)) || v.toLowerCase().startsWith(term)
        );
      });
      return any ? hits.some(Boolean) : hits.every(Boolean);
    };
  }

  private resource(kind: 'user' | 'group'): ListResource {
    return { kind, slots: kind === 'user' ? this.store.users : this.store.groups };
  }

  private ordered(req: GraphRequest, res: ListResource): Array<DirObject | undefined> {
    const raw = req.query.get('$orderby');
    if (raw === null) return res.slots;
    const m = /^\s*(displayName|userPrincipalName|mail)(\s+(asc|desc))?\s*$/i.exec(raw);
    if (!m || (m[1] === 'userPrincipalName' && res.kind !== 'user')) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported sort property '${raw.trim().split(/\s+/)[0]}' for '${res.kind === 'user' ? 'User' : 'Group'}'.`,
      );
    }
    if (req.query.has('$filter') && !eventual(req)) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        "Sorting with '$filter' is only supported with the 'ConsistencyLevel: eventual' header and '$count=true'.",
      );
    }
    const prop = m[1]!;
    const desc = (m[3] ?? '').toLowerCase() === 'desc';
    const key = `${res.kind}:${prop}:${desc}`;
    const hit = this.sortCache.get(key);
    if (hit && hit.v === this.store.version) return hit.ids;
    const ids = res.slots.filter((o): o is DirObject => !!o && !o.deleted);
    ids.sort((a, b) => {
      const x = String(a.props[prop] ?? '').toLowerCase();
      const y = String(b.props[prop] ?? '').toLowerCase();
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
    this.sortCache.set(key, { v: this.store.version, ids });
    return ids;
  }

  private list(req: GraphRequest, kind: 'user' | 'group'): GraphResponse {
    const res = this.resource(kind);
    if (req.query.has('$skip')) {
      throw new GraphError(400, 'Request_BadRequest', "'$skip' is not supported by the service.");
    }
    const select = parseSelect(kind, req.query.get('$select'));
    checkCollectionSelect(kind, select);
    const top = parseTop(req.query.get('$top'));
    const filter = this.filterFor(req, kind);
    const search = this.searchFor(req);
    const slots = this.ordered(req, res);
    const state = req.query.has('$skiptoken') ? decodeToken(req.query.get('$skiptoken')!) : { i: 0 };
    const start = Number(state.i);
    const match = (o: DirObject | undefined): o is DirObject =>
      !!o && !o.deleted && (!filter || filter.test(o.props)) && (!search || search(o.props));
    const values: string[] = [];
    let i = start;
    for (; i < slots.length && values.length < top; i++) {
      const o = slots[i];
      if (match(o)) values.push(project(o, select));
    }
    // Look ahead so the last page carries no nextLink (Graph may send an empty last page; we do not).
    while (i < slots.length && !match(slots[i])) i++;
    const extra: Record<string, unknown> = {};
    if (
      !req.query.has('$skiptoken') &&
      eventual(req) &&
      (req.query.get('$count') ?? '').toLowerCase() === 'true'
    ) {
      let n = 0;
      for (const o of slots) if (match(o)) n++;
      extra['@odata.count'] = n;
    }
    if (i < slots.length) extra['@odata.nextLink'] = this.nextLink(req, { i });
    const ctx = `${req.root}/$metadata#${kind}s${select ? `(${select.join(',')})` : ''}`;
    return ok(collection(ctx, values, extra));
  }

  private nextLink(req: GraphRequest, state: Record<string, unknown>): string {
    const q = new URLSearchParams(req.query);
    q.delete('$skiptoken');
    q.set('$skiptoken', encodeToken(state));
    return `${req.root}${req.path}?${q.toString().replace(/%24/g, '$').replace(/%2C/g, ',')}`;
  }

  private count(req: GraphRequest, kind: 'user' | 'group'): GraphResponse {
    if (!eventual(req)) throw new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
    const filter = this.filterFor({ ...req, query: withCount(req.query) }, kind);
    const search = this.searchFor(req);
    let n = 0;
    for (const o of this.resource(kind).slots) {
      if (o && !o.deleted && (!filter || filter.test(o.props)) && (!search || search(o.props))) n++;
    }
    return { status: 200, headers: { 'content-type': 'text/plain;charset=utf-8' }, body: String(n) };
  }

  private members(
    req: GraphRequest,
    group: DirObject,
    transitive: boolean,
    cast: string | undefined,
    rest: string[],
  ): GraphResponse {
    let castKind: ObjectKind | null = null;
    if (cast === '$count' && rest.length === 0) {
      if (!eventual(req))
        throw new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
      const ids = transitive ? this.store.transitiveMembers(group) : this.store.liveMembers(group);
      return {
        status: 200,
        headers: { 'content-type': 'text/plain;charset=utf-8' },
        body: String(ids.length),
      };
    }
    if (cast !== undefined) {
      const m = /^microsoft\.graph\.(user|group|orgContact|device|servicePrincipal)$/.exec(cast);
      if (!m || rest.length > 0) throw segmentNotFound(cast);
      castKind = m[1] as ObjectKind;
      if (
        castKind === 'group' &&
        ((group.props.groupTypes as string[]) ?? []).includes('Unified') &&
        !transitive
      ) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          "The type cast 'microsoft.graph.group' is not supported on members of a Microsoft 365 group.",
        );
      }
    }
    if (req.query.has('$filter') || req.query.has('$search')) {
      // Member filters are advanced queries only (group-list-members, 2025).
      if (!eventual(req)) {
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          'Filter on members requires the ConsistencyLevel:eventual header and $count=true. Refer to https://aka.ms/graph-docs/advanced-queries for more information',
        );
      }
    }
    const rawSelect = req.query.get('$select');
    const select = castKind ? parseSelect(castKind, rawSelect) : parseMemberSelect(rawSelect);
    // Members are a collection too: properties served for one user only are refused as on /users.
    checkCollectionSelect('user', select);
    const top = parseTop(req.query.get('$top'));
    const ids = transitive ? this.store.transitiveMembers(group) : this.store.liveMembers(group);
    const state = req.query.has('$skiptoken') ? decodeToken(req.query.get('$skiptoken')!) : { i: 0 };
    const filterSrc = req.query.get('$filter');
    const filter =
      filterSrc && (castKind === 'user' || castKind === 'group')
        ? compileFilter(castKind, filterSrc, true)
        : filterSrc
          ? compileFilter('user', filterSrc, true)
          : null;
    const values: string[] = [];
    let i = Number(state.i);
    const match = (o: DirObject | undefined): o is DirObject =>
      !!o && !o.deleted && (!castKind || o.kind === castKind) && (!filter || filter.test(o.props));
    for (; i < ids.length && values.length < top; i++) {
      const o = this.store.byId.get(ids[i]!);
      if (!match(o)) continue;
      // Without permission to read the member's type Graph still lists it, with nothing but type and id.
      const limited = !can(req.roles, READ_BY_KIND[o.kind]);
      values.push(project(o, select, { withType: true, limited }));
    }
    while (i < ids.length && !match(this.store.byId.get(ids[i]!))) i++;
    const extra: Record<string, unknown> = {};
    if (
      !req.query.has('$skiptoken') &&
      eventual(req) &&
      (req.query.get('$count') ?? '').toLowerCase() === 'true'
    ) {
      extra['@odata.count'] = ids.filter((id) => match(this.store.byId.get(id))).length;
    }
    if (i < ids.length) extra['@odata.nextLink'] = this.nextLink(req, { i });
    const ctx = `${req.root}/$metadata#${castKind ? `${castKind}s` : 'directoryObjects'}${select ? `(${select.join(',')})` : ''}`;
    return ok(collection(ctx, values, extra));
  }

  // ------------------------------------------------------------------ delta

  private deltaError(req: GraphRequest, kind: 'user' | 'group', select: string[] | null): GraphError {
    const mode = this.store.tokenExpiryMode;
    if (mode === 'resync') {
      const q = select ? `$select=${select.join(',')}&` : '';
      return new GraphError(
        410,
        'resyncRequired',
        'The delta token is no longer valid, and the app must reset the sync state.',
        {
          location: `${req.root}/${kind}s/delta?${q}$deltatoken=`,
        },
      );
    }
    // The mode is the error code's spelling: syncStateNotFound (documented) or SyncStateNotFound (seen).
    return new GraphError(
      400,
      mode,
      'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
    );
  }

  private checkToken(req: GraphRequest, kind: 'user' | 'group', state: Record<string, unknown>): void {
    if (state.r !== kind)
      throw new GraphError(400, 'Request_BadRequest', 'The delta token does not belong to this resource.');
    const expired =
      Number(state.g) !== this.store.tokenGeneration || Date.now() - Number(state.t) > DELTA_TOKEN_TTL_MS;
    if (expired) throw this.deltaError(req, kind, (state.s as string[] | null) ?? null);
  }

  private delta(req: GraphRequest, kind: 'user' | 'group'): GraphResponse {
    // $top is documented as unsupported but Graph ignores it (docs/graph-facts.md Addendum); the others fail.
    for (const p of ['$orderby', '$expand', '$search']) {
      if (req.query.has(p))
        throw new GraphError(
          400,
          'Request_UnsupportedQuery',
          `The query parameter '${p}' is not supported with delta queries.`,
        );
    }
    const skip = req.query.get('$skiptoken');
    const dtok = req.query.get('$deltatoken');
    const pageSize = Math.min(this.limits.deltaPageSize, preferPageSize(req) ?? Number.POSITIVE_INFINITY);
    let state: Record<string, unknown>;
    if (skip) {
      state = decodeToken(skip);
      this.checkToken(req, kind, state);
    } else if (dtok && dtok !== '') {
      const select = parseSelect(kind, req.query.get('$select'), true);
      checkCollectionSelect(kind, select);
      const ids = this.deltaIds(req, kind);
      if (dtok === 'latest') {
        const link = this.deltaLink(req, kind, { v: this.store.version, s: select, f: ids });
        return ok(collection(`${req.root}/$metadata#${kind}s`, [], { '@odata.deltaLink': link }));
      }
      const tok = decodeToken(dtok);
      this.checkToken(req, kind, tok);
      state = { ...tok, m: 'inc', from: tok.v, to: this.store.version, o: 0, mo: 0 };
    } else {
      const select = parseSelect(kind, req.query.get('$select'), true);
      checkCollectionSelect(kind, select);
      state = {
        r: kind,
        g: this.store.tokenGeneration,
        t: Date.now(),
        m: 'init',
        v: this.store.version,
        s: select,
        f: this.deltaIds(req, kind),
        o: 0,
        mo: 0,
      };
    }
    return state.m === 'init'
      ? this.deltaInitial(req, kind, state, pageSize)
      : this.deltaIncremental(req, kind, state, pageSize);
  }

  private deltaIds(req: GraphRequest, kind: 'user' | 'group'): string[] | null {
    const raw = req.query.get('$filter');
    if (raw === null) return null;
    const f = compileFilter(kind, raw, true);
    if (!f.idsOnly) {
      throw new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for delta query: '${raw}'. Only 'id eq' is supported.`,
      );
    }
    if (f.idsOnly.length > 50)
      throw new GraphError(400, 'Request_UnsupportedQuery', 'Too many ids in the delta filter (maximum 50).');
    return f.idsOnly;
  }

  private deltaLink(
    req: GraphRequest,
    kind: 'user' | 'group',
    s: { v: number; s: unknown; f: unknown },
  ): string {
    const token = encodeToken({
      r: kind,
      g: this.store.tokenGeneration,
      t: Date.now(),
      v: s.v,
      s: s.s,
      f: s.f,
    });
    return `${req.root}/${kind}s/delta?$deltatoken=${token}`;
  }

  private deltaPage(
    req: GraphRequest,
    kind: 'user' | 'group',
    state: Record<string, unknown>,
    values: string[],
    next: Record<string, unknown> | null,
    roundEnd: number,
    headers: Record<string, string> = {},
  ): GraphResponse {
    const select = (state.s as string[] | null) ?? null;
    const ctx = `${req.root}/$metadata#${kind}s${select ? `(${select.join(',')})` : ''}`;
    const extra: Record<string, unknown> = {};
    if (next)
      extra['@odata.nextLink'] =
        `${req.root}/${kind}s/delta?$skiptoken=${encodeToken({ ...state, ...next })}`;
    else extra['@odata.deltaLink'] = this.deltaLink(req, kind, { v: roundEnd, s: state.s, f: state.f });
    return ok(collection(ctx, values, extra), headers);
  }

  /** One delta representation of a live object: `props` plus members@delta. */
  private deltaObject(obj: DirObject, props: string[], members: string[] | null): string {
    const json = deltaJson(obj, props);
    if (members === null || members.length === 0) return json;
    return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"members@delta":[${members.join(',')}]}`;
  }

  /** A removed object: id and @removed, and in 'properties' mode a soft-deleted one's properties too. */
  private removedObject(obj: DirObject, props: string[]): string {
    const reason = obj.deleted === 'hard' ? 'deleted' : 'changed';
    const json =
      reason === 'changed' && this.limits.softDeletedInDelta === 'properties'
        ? deltaJson(obj, props)
        : `{"id":"${obj.id}"}`;
    return `${json.slice(0, -1)},"@removed":{"reason":"${reason}"}}`;
  }

  private deltaInitial(
    req: GraphRequest,
    kind: 'user' | 'group',
    state: Record<string, unknown>,
    pageSize: number,
  ): GraphResponse {
    const slots = kind === 'user' ? this.store.users : this.store.groups;
    const select = (state.s as string[] | null) ?? null;
    const props = deltaProps(kind, select);
    const withMembers = kind === 'group' && (select === null || select.includes('members'));
    const ids = state.f as string[] | null;
    const idSet = ids ? new Set(ids) : null;
    const values: string[] = [];
    let budget = this.limits.deltaMembersPerPage;
    let i = Number(state.o);
    let mo = Number(state.mo);
    while (i < slots.length && values.length < pageSize) {
      const o = slots[i];
      if (!o || o.deleted || (idSet && !idSet.has(o.id))) {
        i++;
        mo = 0;
        continue;
      }
      let members: string[] | null = null;
      if (withMembers) {
        const all = this.store.liveMembers(o);
        if (all.length > 0) {
          if (budget <= 0 && values.length > 0) break;
          const slice = all.slice(mo, mo + Math.max(budget, 1));
          members = slice.map((id) => memberRef(this.store.byId.get(id), id, false));
          budget -= slice.length;
          mo += slice.length;
          values.push(this.deltaObject(o, props, members));
          if (mo < all.length) break; // the rest of this group's members go on the next page
        } else {
          values.push(this.deltaObject(o, props, null));
        }
      } else {
        values.push(this.deltaObject(o, props, null));
      }
      i++;
      mo = 0;
    }
    while (i < slots.length && (!slots[i] || slots[i]!.deleted || (idSet && !idSet.has(slots[i]!.id)))) i++;
    const next = i < slots.length ? { o: i, mo } : null;
    return this.deltaPage(req, kind, state, values, next, Number(state.v));
  }

  /**
   * Objects of `kind` changed in (from, to], in order of first change, each with the properties
   * those changes set (null = the whole object: created, restored or deleted); cached per window.
   */
  private changes(kind: 'user' | 'group', from: number, to: number): Array<[string, Set<string> | null]> {
    const key = `${kind}:${from}:${to}`;
    const hit = this.deltaListCache.get(key);
    if (hit) return hit;
    const changed = new Map<string, Set<string> | null>();
    const log = this.store.changeLog;
    for (let k = this.store.changeLogIndexAfter(from); k < log.length && log[k]!.v <= to; k++) {
      const e = log[k]!;
      if (e.kind !== kind) continue;
      const seen = changed.get(e.id);
      if (seen === null) continue;
      if (e.props === null) changed.set(e.id, null);
      else if (seen) for (const p of e.props) seen.add(p);
      else changed.set(e.id, new Set(e.props));
    }
    const entries = [...changed];
    if (this.deltaListCache.size > 64) this.deltaListCache.clear();
    this.deltaListCache.set(key, entries);
    return entries;
  }

  /** Net membership changes of a group in (from, to]: last operation per member wins. */
  private memberChanges(group: DirObject, from: number, to: number): string[] {
    const log = group.memberLog!;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid]!.v <= from) lo = mid + 1;
      else hi = mid;
    }
    const net = new Map<string, 'add' | 'remove'>();
    for (let k = lo; k < log.length && log[k]!.v <= to; k++) net.set(log[k]!.memberId, log[k]!.op);
    const out: string[] = [];
    for (const [id, op] of net) out.push(memberRef(this.store.byId.get(id), id, op === 'remove'));
    return out;
  }

  private deltaIncremental(
    req: GraphRequest,
    kind: 'user' | 'group',
    state: Record<string, unknown>,
    pageSize: number,
  ): GraphResponse {
    const from = Number(state.from);
    const to = Number(state.to);
    const entries = this.changes(kind, from, to);
    const select = (state.s as string[] | null) ?? null;
    const props = deltaProps(kind, select);
    // "Prefer: return=minimal" on a round after the initial one: only the properties changed since
    // the deltaLink was issued, changes to null included (user-delta).
    const minimal = wantsMinimal(req);
    const filterIds = state.f ? new Set(state.f as string[]) : null;
    const withMembers = kind === 'group' && (select === null || select.includes('members'));
    const values: string[] = [];
    let budget = this.limits.deltaMembersPerPage;
    let o = Number(state.o);
    let mo = Number(state.mo);
    while (o < entries.length && values.length < pageSize) {
      const [id, changed] = entries[o]!;
      const obj = this.store.byId.get(id);
      if (!obj || (filterIds && !filterIds.has(id))) {
        o++;
        continue;
      }
      if (obj.deleted) {
        values.push(this.removedObject(obj, props));
        o++;
        mo = 0;
        continue;
      }
      const served = minimal && changed ? props.filter((p) => p === 'id' || changed.has(p)) : props;
      if (withMembers) {
        const memberChanges = this.memberChanges(obj, from, to);
        if (memberChanges.length > 0 && budget <= 0 && values.length > 0) break;
        const slice = memberChanges.slice(mo, mo + Math.max(budget, 1));
        budget -= slice.length;
        mo += slice.length;
        values.push(this.deltaObject(obj, served, slice));
        if (mo < memberChanges.length) break;
      } else {
        values.push(this.deltaObject(obj, served, null));
      }
      o++;
      mo = 0;
    }
    const next = o < entries.length ? { o, mo } : null;
    const applied: Record<string, string> = minimal ? { 'preference-applied': 'return=minimal' } : {};
    return this.deltaPage(req, kind, state, values, next, to, applied);
  }
}

function withCount(q: URLSearchParams): URLSearchParams {
  const c = new URLSearchParams(q);
  c.set('$count', 'true');
  return c;
}

function preferPageSize(req: GraphRequest): number | null {
  const m = /odata\.maxpagesize=(\d+)/i.exec(req.headers.prefer ?? '');
  return m ? Math.max(1, Number(m[1])) : null;
}

/** $select on mailboxSettings. */
function parseMailboxSettingsSelect(raw: string | null): string[] | null {
  return parseSelectList(raw, 'mailboxSettings', mailboxSettingsProperty);
}

const MEMBER_KINDS: ObjectKind[] = ['user', 'group', 'orgContact', 'device', 'servicePrincipal'];

/** $select on a directoryObject collection: a name must exist on at least one member type. */
function parseMemberSelect(raw: string | null): string[] | null {
  return parseSelectList(raw, 'directoryObject', (name) =>
    MEMBER_KINDS.some((k) => isProperty(k, name)) ? name : undefined,
  );
}

/** A new GUID for request-id headers. */
export function requestId(): string {
  return randomUUID();
}
