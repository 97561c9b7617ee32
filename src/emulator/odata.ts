import { CSDL_PROPERTIES } from './schema.js';
import type { ObjectKind } from './tenant.js';

/** A Graph error to send: status, error.code and error.message (the envelope is added later). */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }
}

/** Properties Graph returns without $select ("default property set"), per type. */
export const DEFAULT_SELECT: Record<ObjectKind, string[]> = {
  user: [
    'businessPhones',
    'displayName',
    'givenName',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
    'id',
  ],
  group: [
    'id',
    'deletedDateTime',
    'classification',
    'createdDateTime',
    'creationOptions',
    'description',
    'displayName',
    'expirationDateTime',
    'groupTypes',
    'isAssignableToRole',
    'mail',
    'mailEnabled',
    'mailNickname',
    'membershipRule',
    'membershipRuleProcessingState',
    'onPremisesDomainName',
    'onPremisesLastSyncDateTime',
    'onPremisesNetBiosName',
    'onPremisesSamAccountName',
    'onPremisesSecurityIdentifier',
    'onPremisesSyncEnabled',
    'preferredDataLocation',
    'preferredLanguage',
    'proxyAddresses',
    'renewedDateTime',
    'resourceBehaviorOptions',
    'resourceProvisioningOptions',
    'securityEnabled',
    'securityIdentifier',
    'theme',
    'uniqueName',
    'visibility',
    'onPremisesProvisioningErrors',
    'serviceProvisioningErrors',
  ],
  orgContact: [
    'id',
    'deletedDateTime',
    'companyName',
    'department',
    'displayName',
    'proxyAddresses',
    'givenName',
    'jobTitle',
    'mail',
    'mailNickname',
    'onPremisesSyncEnabled',
    'onPremisesLastSyncDateTime',
    'surname',
    'addresses',
    'phones',
  ],
  device: [
    'id',
    'deletedDateTime',
    'accountEnabled',
    'approximateLastSignInDateTime',
    'deviceId',
    'displayName',
    'operatingSystem',
    'operatingSystemVersion',
    'trustType',
  ],
  servicePrincipal: [
    'id',
    'deletedDateTime',
    'accountEnabled',
    'appDisplayName',
    'appId',
    'displayName',
    'servicePrincipalNames',
    'servicePrincipalType',
    'signInAudience',
    'tags',
  ],
};

// creationOptions is returned by default on groups but is a beta-era property missing from the
// v1.0 CSDL; it is dropped so that every served name exists in the official schema.
DEFAULT_SELECT.group = DEFAULT_SELECT.group.filter(
  (p) => p === 'id' || p in CSDL_PROPERTIES.group! || p === 'deletedDateTime',
);

/** Graph type names as they appear in error messages and @odata.type. */
export const TYPE_NAME: Record<ObjectKind, string> = {
  user: 'user',
  group: 'group',
  orgContact: 'orgContact',
  device: 'device',
  servicePrincipal: 'servicePrincipal',
};

const RESOURCE_NAME: Record<string, string> = { user: 'User', group: 'Group' };

/** True when `name` is a structural property of the type (CSDL) or id/deletedDateTime. */
export function isProperty(kind: ObjectKind, name: string): boolean {
  return name === 'id' || name === 'deletedDateTime' || name in (CSDL_PROPERTIES[kind] ?? {});
}

/** True when the CSDL types the property as a collection (served as [] rather than null). */
export function isCollection(kind: ObjectKind, name: string): boolean {
  return (CSDL_PROPERTIES[kind]?.[name] ?? '').startsWith('Collection(');
}

/**
 * Parses a $select list (null: every property). `resolve` gives a name's schema spelling — Graph
 * matches names case-insensitively but answers with the schema's — or undefined for a name the
 * type `typeName` does not have, which is a 400.
 */
export function parseSelectList(
  raw: string | null,
  typeName: string,
  resolve: (name: string) => string | undefined,
): string[] | null {
  if (raw === null || raw.trim() === '') return null;
  const out: string[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (name === '*') return null;
    const canonical = resolve(name);
    if (!canonical) {
      throw new GraphError(
        400,
        'BadRequest',
        `Could not find a property named '${name}' on type 'microsoft.graph.${typeName}'.`,
      );
    }
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

/** Parses $select of an object kind; `allowMembers` admits the `members` navigation property (groups delta). */
export function parseSelect(kind: ObjectKind, raw: string | null, allowMembers = false): string[] | null {
  return parseSelectList(raw, TYPE_NAME[kind], (name) =>
    allowMembers && kind === 'group' && name === 'members' ? name : canonicalName(kind, name),
  );
}

function canonicalName(kind: ObjectKind, name: string): string | undefined {
  if (isProperty(kind, name)) return name;
  const lower = name.toLowerCase();
  if (lower === 'id') return 'id';
  return Object.keys(CSDL_PROPERTIES[kind] ?? {}).find((p) => p.toLowerCase() === lower);
}

// "Certain properties cannot be returned within a user collection. The following properties are
// only supported when retrieving a single user" (user-list); asking for them on /users is a 501.
// They live outside the directory store, so they are not change-tracked either (docs/graph-facts.md §2).
export const SINGLE_USER_ONLY: ReadonlySet<string> = new Set([
  'aboutMe',
  'birthday',
  'hireDate',
  'interests',
  'mySite',
  'pastProjects',
  'preferredName',
  'responsibilities',
  'schools',
  'skills',
  'mailboxSettings',
]);

/** Throws Graph's 501 when a user-collection $select names a property served only for one user. */
export function checkCollectionSelect(kind: ObjectKind, select: string[] | null): void {
  if (kind !== 'user' || !select?.some((p) => SINGLE_USER_ONLY.has(p))) return;
  throw new GraphError(501, 'NotImplemented', 'This operation target is not yet supported.');
}

/** Parses $top: default 100, 1..999, else 400 like Graph. */
export function parseTop(raw: string | null): number {
  if (raw === null) return 100;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 999) {
    throw new GraphError(
      400,
      'Request_UnsupportedQuery',
      `Invalid page size specified: '${raw}'. Must be between 1 and 999 inclusive.`,
    );
  }
  return n;
}

// ---------------------------------------------------------------- $filter

type Tok = { t: 'id' | 'str' | 'num' | 'p' | 'kw'; v: string };

type Node =
  | { t: 'and' | 'or'; l: Node; r: Node }
  | { t: 'not'; e: Node }
  | { t: 'cmp'; op: string; path: string; value: unknown }
  | { t: 'in'; path: string; values: unknown[] }
  | { t: 'fn'; name: string; path: string; value: string }
  | { t: 'any'; path: string; v: string; body: Node }
  | { t: 'count'; path: string; op: string; value: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw badFilter(src);
        if (src[i] === "'") {
          if (src[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += src[i++];
      }
      out.push({ t: 'str', v: s });
    } else if ('(),:'.includes(c)) {
      out.push({ t: 'p', v: c });
      i++;
    } else if (/[0-9-]/.test(c) && /^-?\d/.test(src.slice(i)) && !/^[0-9a-f]{8}-/i.test(src.slice(i))) {
      const m = /^-?\d+(\.\d+)?/.exec(src.slice(i))!;
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else {
      const m = /^[A-Za-z_$][A-Za-z0-9_$/.]*/.exec(src.slice(i));
      if (!m) throw badFilter(src);
      const word = m[0];
      const lw = word.toLowerCase();
      out.push(
        ['and', 'or', 'not', 'eq', 'ne', 'gt', 'ge', 'lt', 'le', 'in', 'true', 'false', 'null'].includes(lw)
          ? { t: 'kw', v: lw }
          : { t: 'id', v: word },
      );
      i += word.length;
    }
  }
  return out;
}

function badFilter(src: string): GraphError {
  return new GraphError(
    400,
    'BadRequest',
    `Invalid filter clause: Syntax error at position ${src.length} in '${src}'.`,
  );
}

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Tok[],
    private readonly src: string,
  ) {}
  private peek(): Tok | undefined {
    return this.toks[this.i];
  }
  private take(): Tok {
    const t = this.toks[this.i++];
    if (!t) throw badFilter(this.src);
    return t;
  }
  private expect(t: Tok['t'], v?: string): Tok {
    const tok = this.take();
    if (tok.t !== t || (v !== undefined && tok.v !== v)) throw badFilter(this.src);
    return tok;
  }
  parse(): Node {
    const n = this.or();
    if (this.i !== this.toks.length) throw badFilter(this.src);
    return n;
  }
  private or(): Node {
    let l = this.and();
    while (this.peek()?.t === 'kw' && this.peek()?.v === 'or') {
      this.take();
      l = { t: 'or', l, r: this.and() };
    }
    return l;
  }
  private and(): Node {
    let l = this.unary();
    while (this.peek()?.t === 'kw' && this.peek()?.v === 'and') {
      this.take();
      l = { t: 'and', l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    const t = this.peek();
    if (t?.t === 'kw' && t.v === 'not') {
      this.take();
      return { t: 'not', e: this.unary() };
    }
    if (t?.t === 'p' && t.v === '(') {
      this.take();
      const n = this.or();
      this.expect('p', ')');
      return n;
    }
    return this.primary();
  }
  private literal(): unknown {
    const t = this.take();
    if (t.t === 'str') return t.v;
    if (t.t === 'num') return Number(t.v);
    if (t.t === 'kw' && t.v === 'true') return true;
    if (t.t === 'kw' && t.v === 'false') return false;
    if (t.t === 'kw' && t.v === 'null') return null;
    throw badFilter(this.src);
  }
  private primary(): Node {
    const t = this.expect('id');
    const next = this.peek();
    const lower = t.v.toLowerCase();
    if (next?.t === 'p' && next.v === '(' && !lower.endsWith('/any') && !lower.endsWith('/all')) {
      // startsWith(path,'x') / endsWith(path,'x')
      this.take();
      const path = this.expect('id').v;
      this.expect('p', ',');
      const value = this.expect('str').v;
      this.expect('p', ')');
      return { t: 'fn', name: t.v.toLowerCase(), path, value };
    }
    if (t.v.toLowerCase().endsWith('/any') || t.v.toLowerCase().endsWith('/all')) {
      const path = t.v.slice(0, -4);
      this.expect('p', '(');
      const v = this.expect('id').v;
      this.expect('p', ':');
      const body = this.or();
      this.expect('p', ')');
      if (t.v.toLowerCase().endsWith('/all')) throw unsupported(path, undefined);
      return { t: 'any', path, v, body };
    }
    if (t.v.endsWith('/$count')) {
      const op = this.expect('kw').v;
      const value = Number(this.expect('num').v);
      return { t: 'count', path: t.v.slice(0, -7), op, value };
    }
    const op = this.expect('kw').v;
    if (op === 'in') {
      this.expect('p', '(');
      const values: unknown[] = [this.literal()];
      while (this.peek()?.v === ',') {
        this.take();
        values.push(this.literal());
      }
      this.expect('p', ')');
      return { t: 'in', path: t.v, values };
    }
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) throw badFilter(this.src);
    return { t: 'cmp', op, path: t.v, value: this.literal() };
  }
}

let currentResource = 'User';
function unsupported(path: string, _op: string | undefined): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${path}' of resource '${currentResource}'.`,
  );
}
function needsAdvanced(op: string): GraphError {
  return new GraphError(
    400,
    'Request_UnsupportedQuery',
    `Operator '${op}' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
  );
}

// What the default (non-advanced) query mode supports per property, after
// https://learn.microsoft.com/graph/aad-advanced-queries (docs/graph-facts.md §2.2/§2.4).
const STRINGY = ['eq', 'startswith', 'in'];
const CAPS: Record<string, Record<string, string[]>> = {
  user: {
    id: ['eq', 'in'],
    userPrincipalName: STRINGY,
    mail: STRINGY,
    displayName: STRINGY,
    givenName: STRINGY,
    surname: STRINGY,
    mailNickname: STRINGY,
    jobTitle: STRINGY,
    department: STRINGY,
    companyName: STRINGY,
    officeLocation: STRINGY,
    usageLocation: ['eq'],
    employeeId: STRINGY,
    accountEnabled: ['eq'],
    userType: ['eq', 'in'],
    creationType: ['eq', 'in'],
    externalUserState: ['eq', 'in'],
    onPremisesSyncEnabled: ['eq'],
    proxyAddresses: ['any'],
    otherMails: ['any'],
    createdDateTime: [],
  },
  group: {
    id: ['eq', 'in'],
    displayName: STRINGY,
    mail: STRINGY,
    mailNickname: STRINGY,
    description: ['startswith'],
    mailEnabled: ['eq'],
    securityEnabled: ['eq'],
    onPremisesSyncEnabled: ['eq'],
    isAssignableToRole: ['eq'],
    groupTypes: ['any'],
    proxyAddresses: ['any'],
    createdDateTime: [],
    visibility: ['eq'],
  },
};

/** A compiled $filter: the predicate and whether it used advanced-only operators. */
export interface CompiledFilter {
  test: (props: Record<string, unknown>) => boolean;
  advanced: boolean;
  /** Ids when the filter is exactly `id eq 'x' or id eq 'y' …` (the only form delta accepts). */
  idsOnly: string[] | null;
}

function lc(v: unknown): unknown {
  return typeof v === 'string' ? v.toLowerCase() : v;
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = lc(a);
  const y = lc(b);
  switch (op) {
    case 'eq':
      return (x ?? null) === y;
    case 'ne':
      return (x ?? null) !== y;
    case 'gt':
      return x != null && y != null && (x as number) > (y as number);
    case 'ge':
      return x != null && y != null && (x as number) >= (y as number);
    case 'lt':
      return x != null && y != null && (x as number) < (y as number);
    default:
      return x != null && y != null && (x as number) <= (y as number);
  }
}

/**
 * Compiles a $filter for users or groups, rejecting what Graph rejects: unknown properties,
 * unsupported operators, and advanced-only operators when `advancedAllowed` is false.
 */
export function compileFilter(kind: 'user' | 'group', src: string, advancedAllowed: boolean): CompiledFilter {
  currentResource = RESOURCE_NAME[kind]!;
  const ast = new Parser(tokenize(src), src).parse();
  let advanced = false;
  const caps = CAPS[kind]!;
  const mark = (opName: string) => {
    advanced = true;
    if (!advancedAllowed) throw needsAdvanced(opName);
  };
  const check = (path: string, op: string) => {
    const allowed = caps[path];
    if (!allowed) throw unsupported(path, op);
    if (!allowed.includes(op)) mark(op === 'startswith' ? 'startsWith' : op === 'endswith' ? 'endsWith' : op);
  };
  const build = (n: Node): ((p: Record<string, unknown>) => boolean) => {
    switch (n.t) {
      case 'and': {
        const l = build(n.l);
        const r = build(n.r);
        return (p) => l(p) && r(p);
      }
      case 'or': {
        const l = build(n.l);
        const r = build(n.r);
        return (p) => l(p) || r(p);
      }
      case 'not': {
        mark('not');
        const e = build(n.e);
        return (p) => !e(p);
      }
      case 'cmp': {
        if (!caps[n.path]) throw unsupported(n.path, n.op);
        if (n.value === null) mark(n.op);
        else check(n.path, n.op);
        const { path, op, value } = n;
        return (p) => compare(op, p[path], value);
      }
      case 'in': {
        check(n.path, 'in');
        const set = new Set(n.values.map(lc));
        const { path } = n;
        return (p) => set.has(lc(p[path] ?? null));
      }
      case 'fn': {
        if (n.name !== 'startswith' && n.name !== 'endswith') throw badFilter(src);
        check(n.path, n.name);
        const v = n.value.toLowerCase();
        const { path, name } = n;
        return (p) => {
          const s = p[path];
          if (typeof s !== 'string') return false;
          return name === 'startswith' ? s.toLowerCase().startsWith(v) : s.toLowerCase().endsWith(v);
        };
      }
      case 'any': {
        if (!caps[n.path]?.includes('any')) throw unsupported(n.path, 'any');
        const body = n.body;
        let inner: (s: string) => boolean;
        if (body.t === 'cmp' && body.path === n.v && (body.op === 'eq' || body.op === 'ne')) {
          if (body.op === 'ne') mark('ne');
          const want = String(body.value).toLowerCase();
          inner = body.op === 'eq' ? (s) => s.toLowerCase() === want : (s) => s.toLowerCase() !== want;
        } else if (
          body.t === 'fn' &&
          body.path === n.v &&
          (body.name === 'startswith' || body.name === 'endswith')
        ) {
          if (body.name === 'endswith') mark('endsWith');
          const want = body.value.toLowerCase();
          inner =
            body.name === 'startswith'
              ? (s) => s.toLowerCase().startsWith(want)
              : (s) => s.toLowerCase().endsWith(want);
        } else {
          throw unsupported(n.path, 'any');
        }
        const { path } = n;
        return (p) => ((p[path] as string[] | undefined) ?? []).some((s) => inner(s));
      }
      case 'count': {
        if (!caps[n.path]) throw unsupported(n.path, '$count');
        mark('$count');
        const { path, op, value } = n;
        return (p) => compare(op, ((p[path] as unknown[]) ?? []).length, value);
      }
    }
  };
  const test = build(ast);
  return { test, advanced, idsOnly: idsOnly(ast) };
}

function idsOnly(n: Node): string[] | null {
  if (n.t === 'cmp' && n.path === 'id' && n.op === 'eq' && typeof n.value === 'string')
    return [n.value.toLowerCase()];
  if (n.t === 'or') {
    const l = idsOnly(n.l);
    const r = idsOnly(n.r);
    return l && r ? [...l, ...r] : null;
  }
  return null;
}
