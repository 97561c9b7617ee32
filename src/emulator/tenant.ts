import { randomBytes, randomUUID } from 'node:crypto';
import { domainNameProblem, isInitialDomain } from './domains.js';
import { mailboxSettingsProblem } from './mailbox.js';
import { SINGLE_USER_ONLY } from './odata.js';

/** Directory object types the emulator stores. */
export type ObjectKind = 'user' | 'group' | 'orgContact' | 'device' | 'servicePrincipal';

/**
 * How expired delta tokens answer: 400 with error code `syncStateNotFound` (documented),
 * `SyncStateNotFound` (the spelling Graph has been seen to send), or 410 + Location ('resync').
 */
export type DeltaExpiryMode = 'syncStateNotFound' | 'SyncStateNotFound' | 'resync';
export const DELTA_EXPIRY_MODES: readonly DeltaExpiryMode[] = [
  'syncStateNotFound',
  'SyncStateNotFound',
  'resync',
];
/** A directory object as Graph names its properties (always has `id`). */
export type GraphObject = Record<string, unknown> & { id: string };

/** An app registration with one client secret and the application permissions granted to it. */
export interface EmulatorApp {
  clientId: string;
  clientSecret: string;
  roles: string[];
  secretExpired: boolean;
  displayName: string;
}

/** The JSON shape of a tenant (tenant file, generator output); see docs/emulator.md. */
export interface TenantData {
  tenantId: string;
  displayName?: string;
  /** Verified domains; the first is the default, one must end in .onmicrosoft.com. */
  domains: string[];
  /**
   * Domains added to the tenant but not verified (yet): `/domains` lists them with `isVerified:
   * false`; sign-in and `/organization` know only the verified ones.
   */
  unverifiedDomains?: string[];
  apps: EmulatorApp[];
  users: GraphObject[];
  /** Groups carry `members`: ids of users, groups, contacts, devices or service principals. */
  groups: Array<GraphObject & { members?: string[] }>;
  contacts?: GraphObject[];
  devices?: GraphObject[];
  servicePrincipals?: GraphObject[];
}

/** A domain of the tenant: its name (as added, case kept) and whether its owner proved it. */
export interface EmulatorDomain {
  name: string;
  verified: boolean;
}

/** Why an emulator call failed (unknown id, bad input); the admin API maps it to an HTTP status. */
export class EmulatorError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'EmulatorError';
  }
}

/** A membership change recorded for groups delta. */
export interface MemberChange {
  v: number;
  memberId: string;
  op: 'add' | 'remove';
}

/** One stored directory object with its change version and a per-projection JSON cache. */
export interface DirObject {
  kind: ObjectKind;
  id: string;
  slot: number;
  props: GraphObject;
  version: number;
  /** 'soft' = in deleted items (delta reason "changed"), 'hard' = gone (reason "deleted"). */
  deleted: false | 'soft' | 'hard';
  /** Serialized JSON per projection key; cleared on every change. */
  cache: Map<string, string>;
  /**
   * Properties that have ever held a value: non-null when loaded or added, or named in an update
   * (a change to null included). Delta omits a null property that was never set (user-delta).
   */
  everSet: Set<string>;
  memberOf: Set<string>;
  /** Groups only: ordered direct member ids, with a set for O(1) lookups. */
  members?: string[];
  memberSet?: Set<string>;
  memberLog?: MemberChange[];
  /** Groups a soft-deleted object was removed from, re-added on restore. */
  removedFrom?: string[];
}

/** Change log entry: object `id` of `kind` changed at version `v`. */
export interface ChangeEntry {
  v: number;
  kind: 'user' | 'group';
  id: string;
  /** The properties this change set (`[]` for a membership change); null = the whole object (created, restored, deleted). */
  props: string[] | null;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `s` is a GUID in the 8-4-4-4-12 form. */
export function isGuid(s: string): boolean {
  return GUID.test(s);
}

function userDefaults(p: Partial<GraphObject>): GraphObject {
  const mail = (p.mail as string | null | undefined) ?? null;
  return {
    businessPhones: [],
    displayName: null,
    givenName: null,
    jobTitle: null,
    mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: null,
    accountEnabled: true,
    userType: 'Member',
    mailNickname: null,
    proxyAddresses: mail ? [`SMTP:${mail}`] : [],
    otherMails: [],
    createdDateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    creationType: null,
    externalUserState: null,
    onPremisesSyncEnabled: null,
    department: null,
    companyName: null,
    usageLocation: null,
    ...p,
    id: (p.id as string | undefined) ?? randomUUID(),
  };
}

function groupDefaults(p: Partial<GraphObject>): GraphObject {
  const mail = (p.mail as string | null | undefined) ?? null;
  const { members: _members, ...rest } = p as Partial<GraphObject> & { members?: unknown };
  return {
    classification: null,
    createdDateTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    description: null,
    displayName: null,
    groupTypes: [],
    mail,
    mailEnabled: !!mail,
    mailNickname: mail ? mail.split('@')[0] : '',
    membershipRule: null,
    membershipRuleProcessingState: null,
    onPremisesSyncEnabled: null,
    proxyAddresses: mail ? [`SMTP:${mail}`] : [],
    securityEnabled: !mail,
    visibility: null,
    ...rest,
    id: (p.id as string | undefined) ?? randomUUID(),
  };
}

type PlainKind = 'orgContact' | 'device' | 'servicePrincipal';

function plainDefaults(kind: PlainKind, p: Partial<GraphObject>): GraphObject {
  const base: Record<PlainKind, () => Record<string, unknown>> = {
    orgContact: () => ({
      displayName: null,
      mail: null,
      mailNickname: null,
      proxyAddresses: [],
      givenName: null,
      surname: null,
    }),
    device: () => ({
      displayName: null,
      accountEnabled: true,
      deviceId: randomUUID(),
      operatingSystem: null,
    }),
    servicePrincipal: () => ({
      displayName: null,
      accountEnabled: true,
      appId: randomUUID(),
      servicePrincipalType: 'Application',
    }),
  };
  return { ...base[kind](), ...p, id: (p.id as string | undefined) ?? randomUUID() };
}

function checkMailboxSettings(props: Partial<GraphObject>): void {
  const problem = mailboxSettingsProblem(props.mailboxSettings);
  if (problem) throw new EmulatorError(400, problem);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

/**
 * The in-memory tenant: directory objects in insertion order (so pages are index ranges), a
 * version counter bumped by every mutation, and the change log delta rounds are computed from.
 */
export class TenantStore {
  readonly tenantId: string;
  readonly displayName: string;
  readonly apps: EmulatorApp[];
  readonly byId = new Map<string, DirObject>();
  readonly users: Array<DirObject | undefined> = [];
  readonly groups: Array<DirObject | undefined> = [];
  readonly changeLog: ChangeEntry[] = [];
  version = 0;
  /** Bumped by expireDeltaTokens(); tokens of an older generation are rejected. */
  tokenGeneration = 1;
  tokenExpiryMode: DeltaExpiryMode = 'syncStateNotFound';
  liveUsers = 0;
  private transitiveCache = new Map<string, { v: number; ids: string[] }>();
  /** Every domain in the order added: the tenant data's verified ones first, so the first verified is the default. */
  private readonly domainList: EmulatorDomain[] = [];

  constructor(data: TenantData) {
    if (!isGuid(data.tenantId)) throw new EmulatorError(400, `tenantId '${data.tenantId}' is not a GUID`);
    if (data.domains.length === 0)
      throw new EmulatorError(400, 'a tenant needs at least one verified domain');
    this.tenantId = data.tenantId.toLowerCase();
    this.displayName = data.displayName ?? data.domains[0]!;
    for (const d of data.domains) this.insertDomain(d, true);
    for (const d of data.unverifiedDomains ?? []) this.insertDomain(d, false);
    this.apps = data.apps.map((a) => ({ ...a, roles: [...a.roles] }));
    // Bulk load: no change log entries, version 0, so the first delta round sees them as current state.
    for (const u of data.users) this.insert('user', userDefaults(u));
    for (const c of data.contacts ?? []) this.insert('orgContact', plainDefaults('orgContact', c));
    for (const d of data.devices ?? []) this.insert('device', plainDefaults('device', d));
    for (const sp of data.servicePrincipals ?? [])
      this.insert('servicePrincipal', plainDefaults('servicePrincipal', sp));
    for (const g of data.groups) this.insert('group', groupDefaults(g));
    for (const g of data.groups) {
      const group = this.byId.get(g.id)!;
      for (const m of g.members ?? []) this.link(group, m, false);
    }
  }

  private insert(kind: ObjectKind, props: GraphObject): DirObject {
    const id = props.id.toLowerCase();
    if (!isGuid(id)) throw new EmulatorError(400, `id '${props.id}' is not a GUID`);
    if (kind === 'user') checkMailboxSettings(props);
    if (this.byId.has(id)) throw new EmulatorError(409, `an object with id '${id}' already exists`);
    props.id = id;
    const list = kind === 'user' ? this.users : kind === 'group' ? this.groups : undefined;
    const obj: DirObject = {
      kind,
      id,
      slot: list ? list.length : -1,
      props,
      version: this.version,
      deleted: false,
      cache: new Map(),
      everSet: new Set(Object.keys(props).filter((k) => props[k] !== null && props[k] !== undefined)),
      memberOf: new Set(),
    };
    if (kind === 'group') {
      obj.members = [];
      obj.memberSet = new Set();
      obj.memberLog = [];
    }
    list?.push(obj);
    this.byId.set(id, obj);
    if (kind === 'user') this.liveUsers++;
    return obj;
  }

  /** Records a change of `props` (null = the whole object) and returns its version. */
  private bump(obj: DirObject, props: string[] | null): number {
    const v = ++this.version;
    obj.version = v;
    obj.cache.clear();
    if (obj.kind === 'user' || obj.kind === 'group')
      this.changeLog.push({ v, kind: obj.kind, id: obj.id, props });
    return v;
  }

  private link(group: DirObject, memberId: string, record: boolean): void {
    const member = this.byId.get(memberId.toLowerCase());
    if (!member || member.deleted) throw new EmulatorError(404, `member '${memberId}' does not exist`);
    if (group.kind !== 'group') throw new EmulatorError(400, `'${group.id}' is not a group`);
    if (member.id === group.id) throw new EmulatorError(400, 'a group cannot be a member of itself');
    if (member.kind === 'group' && ((group.props.groupTypes as string[]) ?? []).includes('Unified')) {
      throw new EmulatorError(400, 'Microsoft 365 groups cannot contain groups');
    }
    if (group.memberSet!.has(member.id)) return;
    group.members!.push(member.id);
    group.memberSet!.add(member.id);
    member.memberOf.add(group.id);
    if (record) group.memberLog!.push({ v: this.bump(group, []), memberId: member.id, op: 'add' });
  }

  private unlink(group: DirObject, memberId: string): boolean {
    if (!group.memberSet!.delete(memberId)) return false;
    const i = group.members!.indexOf(memberId);
    group.members!.splice(i, 1);
    this.byId.get(memberId)?.memberOf.delete(group.id);
    group.memberLog!.push({ v: this.bump(group, []), memberId, op: 'remove' });
    return true;
  }

  /** Looks up a live (not deleted) object by id. */
  get(id: string): DirObject | undefined {
    const obj = this.byId.get(id.toLowerCase());
    return obj && !obj.deleted ? obj : undefined;
  }

  private must(id: string, kind: ObjectKind): DirObject {
    const obj = this.get(id);
    if (!obj || obj.kind !== kind) throw new EmulatorError(404, `${kind} '${id}' does not exist`);
    return obj;
  }

  addObject(kind: ObjectKind, partial: Partial<GraphObject>): GraphObject {
    const props =
      kind === 'user'
        ? userDefaults(partial)
        : kind === 'group'
          ? groupDefaults(partial)
          : plainDefaults(kind, partial);
    const obj = this.insert(kind, props);
    this.bump(obj, null);
    if (kind === 'group') {
      for (const m of (partial as { members?: string[] }).members ?? []) this.link(obj, m, true);
    }
    return clone(obj.props);
  }

  updateObject(kind: ObjectKind, id: string, patch: Partial<GraphObject>): GraphObject {
    const obj = this.must(id, kind);
    const { id: _id, members: _m, ...rest } = patch as Partial<GraphObject> & { members?: unknown };
    if (kind === 'user') checkMailboxSettings(rest);
    Object.assign(obj.props, clone(rest));
    for (const k of Object.keys(rest)) obj.everSet.add(k);
    // Properties kept outside the directory (mailboxSettings, …) are not change-tracked: delta
    // does not see a change to them alone.
    const keys = Object.keys(rest);
    const tracked = keys.filter((k) => !(kind === 'user' && SINGLE_USER_ONLY.has(k)));
    if (keys.length > 0 && tracked.length === 0) obj.cache.clear();
    else this.bump(obj, tracked);
    return clone(obj.props);
  }

  deleteObject(kind: ObjectKind, id: string, permanent: boolean): void {
    const existing = this.byId.get(id.toLowerCase());
    if (!existing || existing.kind !== kind || existing.deleted === 'hard') {
      throw new EmulatorError(404, `${kind} '${id}' does not exist`);
    }
    if (existing.deleted === 'soft' && !permanent) return;
    const obj = existing;
    if (!obj.deleted) {
      obj.removedFrom = [...obj.memberOf];
      for (const gid of obj.removedFrom) this.unlink(this.byId.get(gid)!, obj.id);
      if (obj.kind === 'group') {
        for (const m of [...obj.members!]) this.byId.get(m)?.memberOf.delete(obj.id);
      }
      if (kind === 'user') this.liveUsers--;
    }
    obj.deleted = permanent ? 'hard' : 'soft';
    obj.props.deletedDateTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.bump(obj, null);
  }

  restoreObject(kind: ObjectKind, id: string): GraphObject {
    const obj = this.byId.get(id.toLowerCase());
    if (!obj || obj.kind !== kind || obj.deleted !== 'soft') {
      throw new EmulatorError(404, `no deleted ${kind} '${id}' to restore`);
    }
    obj.deleted = false;
    obj.props.deletedDateTime = null;
    this.bump(obj, null);
    if (kind === 'user') this.liveUsers++;
    if (obj.kind === 'group') {
      for (const m of obj.members!) this.byId.get(m)?.memberOf.add(obj.id);
    }
    for (const gid of obj.removedFrom ?? []) {
      const g = this.get(gid);
      if (g) this.link(g, obj.id, true);
    }
    obj.removedFrom = undefined;
    return clone(obj.props);
  }

  addMember(groupId: string, memberId: string): void {
    this.link(this.must(groupId, 'group'), memberId, true);
  }

  removeMember(groupId: string, memberId: string): void {
    const group = this.must(groupId, 'group');
    if (!this.unlink(group, memberId.toLowerCase())) {
      throw new EmulatorError(404, `'${memberId}' is not a member of group '${groupId}'`);
    }
  }

  /** Direct members that are not deleted, in insertion order. */
  liveMembers(group: DirObject): string[] {
    return group.members!;
  }

  /** Flattened nested membership (every member type), cycle-safe, cached per version. */
  transitiveMembers(group: DirObject): string[] {
    const hit = this.transitiveCache.get(group.id);
    if (hit && hit.v === this.version) return hit.ids;
    const seen = new Set<string>();
    const queue = [group];
    const visited = new Set<string>([group.id]);
    while (queue.length > 0) {
      const g = queue.shift()!;
      for (const m of g.members!) {
        if (m === group.id) continue;
        seen.add(m);
        const obj = this.byId.get(m);
        if (obj?.kind === 'group' && !visited.has(m)) {
          visited.add(m);
          queue.push(obj);
        }
      }
    }
    const ids = [...seen];
    this.transitiveCache.set(group.id, { v: this.version, ids });
    return ids;
  }

  /** Index of the first change log entry with version > v (binary search; the log is ordered). */
  changeLogIndexAfter(v: number): number {
    let lo = 0;
    let hi = this.changeLog.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.changeLog[mid]!.v <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  findApp(clientId: string): EmulatorApp | undefined {
    return this.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
  }

  addApp(input: Partial<EmulatorApp>): EmulatorApp {
    const app: EmulatorApp = {
      clientId: input.clientId ?? randomUUID(),
      clientSecret: input.clientSecret ?? newSecret(),
      roles: [...(input.roles ?? [])],
      secretExpired: input.secretExpired ?? false,
      displayName: input.displayName ?? `app-${this.apps.length + 1}`,
    };
    if (this.findApp(app.clientId)) throw new EmulatorError(409, `app '${app.clientId}' already exists`);
    this.apps.push(app);
    return { ...app, roles: [...app.roles] };
  }

  setRoles(clientId: string, roles: string[]): EmulatorApp {
    const app = this.findApp(clientId);
    if (!app) throw new EmulatorError(404, `app '${clientId}' does not exist`);
    app.roles = [...new Set(roles)];
    return { ...app, roles: [...app.roles] };
  }

  /** The verified domains' names, the default first. */
  get domains(): string[] {
    return this.domainList.filter((d) => d.verified).map((d) => d.name);
  }

  /** Every domain, verified or not, in the order added. */
  listDomains(): EmulatorDomain[] {
    return this.domainList.map((d) => ({ ...d }));
  }

  /** The domain named `name` (any case), if the tenant has it. */
  findDomain(name: string): EmulatorDomain | undefined {
    const d = this.domainNamed(name);
    return d && { ...d };
  }

  /** Adds a domain, as an admin does in the Entra admin center (unverified until its owner proves it). */
  addDomain(name: string, verified: boolean): EmulatorDomain {
    // Microsoft creates the initial domain with the tenant; it cannot be added.
    if (isInitialDomain(name))
      throw new EmulatorError(400, `'${name}': an onmicrosoft.com domain cannot be added to a tenant`);
    return { ...this.insertDomain(name, verified) };
  }

  /** Marks a domain verified (its owner published the DNS record Entra asked for); verified stays verified. */
  verifyDomain(name: string): EmulatorDomain {
    const d = this.domainNamed(name);
    if (!d) throw new EmulatorError(404, `domain '${name}' is not a domain of the tenant`);
    d.verified = true;
    return { ...d };
  }

  private insertDomain(name: string, verified: boolean): EmulatorDomain {
    const problem = domainNameProblem(name);
    if (problem) throw new EmulatorError(400, problem);
    if (this.domainNamed(name))
      throw new EmulatorError(409, `domain '${name}' is already a domain of the tenant`);
    const d = { name, verified };
    this.domainList.push(d);
    return d;
  }

  /** The stored record of a domain, named in any case (as Entra matches domain names). */
  private domainNamed(name: string): EmulatorDomain | undefined {
    const n = name.toLowerCase();
    return this.domainList.find((d) => d.name.toLowerCase() === n);
  }

  /** Resolves a tenant given by GUID or verified domain (case-insensitive). */
  matchesTenant(tenant: string): boolean {
    const t = tenant.toLowerCase();
    return t === this.tenantId || this.domains.some((d) => d.toLowerCase() === t);
  }
}

/** A client secret that looks like Entra's (40 chars, `~` in position 4). */
export function newSecret(): string {
  const raw = randomBytes(30).toString('base64url').slice(0, 36);
  return `${raw.slice(0, 3)}8Q~${raw.slice(3)}`;
}
