import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateTls } from './certs.js';
import { generateTenant } from './generate.js';
import { GraphService, type SoftDeletedInDelta } from './graph.js';
import { type EmulatorCloud, HostNames } from './hosts.js';
import { IdentityService } from './identity.js';
import { type EmulatorFault, EmulatorHandler, type RuntimeSettings } from './server.js';
import {
  type DeltaExpiryMode,
  type EmulatorApp,
  type EmulatorDomain,
  EmulatorError,
  type GraphObject,
  type ObjectKind,
  type TenantData,
  TenantStore,
} from './tenant.js';
import { quotaFor, ResourceUnitThrottle } from './throttle.js';

export {
  DIRECTORY_APP_ROLES,
  generateTenant,
  MAILBOX_APP_ROLES,
  SYNC_APP_ROLES,
  tenantDomains,
} from './generate.js';
export type { SoftDeletedInDelta } from './graph.js';
export { EMULATOR_CLOUDS, type EmulatorCloud, MICROSOFT_CLOUD_HOSTS } from './hosts.js';
export { USER_PURPOSES, type UserPurpose } from './mailbox.js';
export type { EmulatorFault } from './server.js';
export type { DeltaExpiryMode, EmulatorApp, EmulatorDomain, GraphObject, TenantData } from './tenant.js';
export { EmulatorError } from './tenant.js';

/** How to start the emulator; every field is optional. */
export interface EmulatorOptions {
  /** 0 (default) picks a free port; 443 by default with `asMicrosoft`. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /**
   * Answer as this Microsoft cloud's own hosts (login.microsoftonline.com, graph.microsoft.com, …)
   * instead of the listen address; clients reach it by pointing those names at `host`.
   */
  asMicrosoft?: EmulatorCloud;
  users?: number;
  groups?: number;
  seed?: number;
  /** Replaces the seed-derived company name in the generated domains. */
  domainPrefix?: string;
  /** A tenant JSON file (docs/emulator.md); wins over users/groups/seed. */
  tenantFile?: string;
  /** An in-memory tenant (same shape as the tenant file); wins over everything else. */
  tenant?: TenantData;
  latencyMs?: number;
  faultRate?: number;
  /** Retry-After seconds of injected 429/503 faults (default 1; fractions allowed). */
  faultRetryAfter?: number;
  /** Where ca.pem is written (and reused from); default a temp dir removed on close. */
  stateDir?: string;
  /** Resource-unit throttling per docs/graph-facts.md §5.2 (default true). */
  throttle?: boolean;
  /** Override the RU quota per app per 10 s (default by tenant size: 3,500 / 5,000 / 8,000). */
  resourceUnitQuota?: number;
  /** Objects per delta page (default 200, as Graph). */
  deltaPageSize?: number;
  /** members@delta entries per delta page (default 500, as Graph's directory-link page). */
  deltaMembersPerPage?: number;
  /**
   * A soft-deleted user or group in delta: 'id' (default) = `{"id","@removed":{"reason":"changed"}}`
   * as Microsoft's examples show; 'properties' = its selected properties besides `@removed`.
   */
  softDeletedInDelta?: SoftDeletedInDelta;
  /** Token requests per app per 10 s before the token endpoint answers 429 (default 300). */
  tokenRequestsPer10s?: number;
  /** Access-token lifetime in seconds (default 3599). */
  tokenLifetimeSeconds?: number;
}

export type { EmulatorApp as EmulatorAppRegistration };

/** Where and how to reach a running emulator (also the `--json` line). */
export interface EmulatorInfo {
  authorityHost: string;
  graphBaseUrl: string;
  /** DNS names to point at the listen address (empty unless `asMicrosoft`). */
  hosts: string[];
  /** The cloud the emulator answers as, when `asMicrosoft`. */
  cloud: EmulatorCloud | undefined;
  caFile: string;
  caPem: string;
  tenantId: string;
  /** The verified domains, the default first (as they are now: verifying a domain adds it). */
  tenantDomains: string[];
  apps: EmulatorApp[];
  adminUrl: string;
}

/** A user or group as Graph names it; groups read back include `members` (ids). */
export type DirectoryRecord = GraphObject;

/** Mutations and reads of the emulated tenant, used between syncs by tests and benchmarks. */
export interface EmulatorTenant {
  addUser(partial: Partial<GraphObject>): GraphObject;
  updateUser(id: string, patch: Partial<GraphObject>): GraphObject;
  /** Soft delete (delta reason "changed"); `permanent` = hard delete (reason "deleted"). */
  deleteUser(id: string, options?: { permanent?: boolean }): void;
  restoreUser(id: string): GraphObject;
  addGroup(partial: Partial<GraphObject> & { members?: string[] }): GraphObject;
  updateGroup(id: string, patch: Partial<GraphObject>): GraphObject;
  deleteGroup(id: string, options?: { permanent?: boolean }): void;
  restoreGroup(id: string): GraphObject;
  addContact(partial: Partial<GraphObject>): GraphObject;
  addDevice(partial: Partial<GraphObject>): GraphObject;
  addServicePrincipal(partial: Partial<GraphObject>): GraphObject;
  addMember(groupId: string, memberId: string): void;
  removeMember(groupId: string, memberId: string): void;
  listUsers(): GraphObject[];
  listGroups(): Array<GraphObject & { members: string[] }>;
  listMembers(groupId: string): string[];
  getUser(id: string): GraphObject | undefined;
  getGroup(id: string): (GraphObject & { members: string[] }) | undefined;
  /** Adds application permissions to an app (tokens issued later carry them). */
  grantRoles(clientId: string, roles: string[]): EmulatorApp;
  /** Replaces an app's application permissions. */
  setRoles(clientId: string, roles: string[]): EmulatorApp;
  /**
   * Every delta/skip token issued so far now fails: 400 with code syncStateNotFound (default) or
   * SyncStateNotFound (the capitalised spelling Graph has been seen to send), or 410 + Location ('resync').
   */
  expireDeltaTokens(mode?: DeltaExpiryMode): void;
  addApp(app: {
    roles?: string[];
    secretExpired?: boolean;
    displayName?: string;
    clientId?: string;
    clientSecret?: string;
  }): EmulatorApp;
  listApps(): EmulatorApp[];
  /** Every domain of the tenant, verified or not, in the order added. */
  listDomains(): EmulatorDomain[];
  /**
   * Adds a domain to the tenant, unverified unless `verified` (an admin added it in Entra; its
   * owner has not proven it yet). 400 for a name that is no domain or an onmicrosoft.com one, 409
   * for one the tenant already has.
   */
  addDomain(name: string, options?: { verified?: boolean }): EmulatorDomain;
  /** The domain's owner proved it (the DNS record Entra asked for): it becomes verified. 404 if unknown. */
  verifyDomain(name: string): EmulatorDomain;
}

/** A running emulator. */
export interface Emulator {
  info: EmulatorInfo;
  tenant: EmulatorTenant;
  stats(): { requests: number; byPath: Record<string, number>; throttled: number; faults: number };
  resetStats(): void;
  setLatency(ms: number): void;
  setFaultRate(rate: number): void;
  setThrottling(on: boolean): void;
  /**
   * Queues a one-shot fault (`count` requests, default 1): `on: 'page'` strikes only Graph
   * requests carrying $skiptoken (nextLinks), 'graph' any Graph HTTP request, 'batch-item' one
   * request inside a `$batch` (the batch itself still answers 200), 'token' the token endpoint;
   * `urlContains` narrows a Graph fault to the URLs containing that text.
   */
  failNext(fault: EmulatorFault): void;
  close(): Promise<void>;
}

/** Reads and minimally validates a tenant file (format in docs/emulator.md). */
export function loadTenantFile(path: string): TenantData {
  const data = JSON.parse(readFileSync(path, 'utf8')) as Partial<TenantData>;
  if (typeof data.tenantId !== 'string')
    throw new EmulatorError(400, `${path}: "tenantId" (GUID) is required`);
  if (!Array.isArray(data.domains) || data.domains.length === 0)
    throw new EmulatorError(400, `${path}: "domains" is required`);
  if (!Array.isArray(data.apps)) throw new EmulatorError(400, `${path}: "apps" is required`);
  return {
    tenantId: data.tenantId,
    displayName: data.displayName,
    domains: data.domains,
    unverifiedDomains: data.unverifiedDomains ?? [],
    apps: data.apps.map((a) => ({
      clientId: a.clientId,
      clientSecret: a.clientSecret,
      roles: a.roles ?? [],
      secretExpired: a.secretExpired ?? false,
      displayName: a.displayName ?? a.clientId,
    })),
    users: data.users ?? [],
    groups: data.groups ?? [],
    contacts: data.contacts ?? [],
    devices: data.devices ?? [],
    servicePrincipals: data.servicePrincipals ?? [],
  };
}

function copyApp(a: EmulatorApp): EmulatorApp {
  return { ...a, roles: [...a.roles] };
}

function tenantApi(store: TenantStore): EmulatorTenant {
  const read = (id: string, kind: ObjectKind): GraphObject | undefined => {
    const o = store.get(id);
    if (!o || o.kind !== kind) return undefined;
    const props = structuredClone(o.props);
    return kind === 'group' ? { ...props, members: [...o.members!] } : props;
  };
  return {
    addUser: (p) => store.addObject('user', p),
    updateUser: (id, patch) => store.updateObject('user', id, patch),
    deleteUser: (id, o) => store.deleteObject('user', id, o?.permanent ?? false),
    restoreUser: (id) => store.restoreObject('user', id),
    addGroup: (p) => store.addObject('group', p),
    updateGroup: (id, patch) => store.updateObject('group', id, patch),
    deleteGroup: (id, o) => store.deleteObject('group', id, o?.permanent ?? false),
    restoreGroup: (id) => store.restoreObject('group', id),
    addContact: (p) => store.addObject('orgContact', p),
    addDevice: (p) => store.addObject('device', p),
    addServicePrincipal: (p) => store.addObject('servicePrincipal', p),
    addMember: (g, m) => store.addMember(g, m),
    removeMember: (g, m) => store.removeMember(g, m),
    listUsers: () => store.users.filter((o) => o && !o.deleted).map((o) => structuredClone(o!.props)),
    listGroups: () =>
      store.groups
        .filter((o) => o && !o.deleted)
        .map((o) => ({ ...structuredClone(o!.props), members: [...o!.members!] })),
    listMembers: (g) => {
      const o = store.get(g);
      if (o?.kind !== 'group') throw new EmulatorError(404, `group '${g}' does not exist`);
      return [...o.members!];
    },
    getUser: (id) => read(id, 'user'),
    getGroup: (id) => read(id, 'group') as (GraphObject & { members: string[] }) | undefined,
    grantRoles: (clientId, roles) => {
      const app = store.findApp(clientId);
      if (!app) throw new EmulatorError(404, `app '${clientId}' does not exist`);
      return store.setRoles(clientId, [...app.roles, ...roles]);
    },
    setRoles: (clientId, roles) => store.setRoles(clientId, roles),
    expireDeltaTokens: (mode = 'syncStateNotFound') => {
      store.tokenGeneration++;
      store.tokenExpiryMode = mode;
    },
    addApp: (a) => store.addApp(a),
    listApps: () => store.apps.map(copyApp),
    listDomains: () => store.listDomains(),
    addDomain: (name, o) => store.addDomain(name, o?.verified ?? false),
    verifyDomain: (name) => store.verifyDomain(name),
  };
}

/** Starts the Entra ID + Graph emulator on HTTPS and resolves once it accepts connections. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const data =
    options.tenant ??
    (options.tenantFile
      ? loadTenantFile(options.tenantFile)
      : generateTenant({
          users: options.users,
          groups: options.groups,
          seed: options.seed,
          domainPrefix: options.domainPrefix,
        }));
  const store = new TenantStore(data);
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'entrasync-emulator-'));
  const hosts = new HostNames(host, options.asMicrosoft);
  const tls = loadOrCreateTls(stateDir, hosts.certificateNames);
  const settings: RuntimeSettings = {
    latencyMs: options.latencyMs ?? 0,
    faultRate: options.faultRate ?? 0,
    faultRetryAfter: options.faultRetryAfter ?? 1,
    throttle: options.throttle ?? true,
  };
  const identity = new IdentityService(store, hosts, {
    tokenLifetimeSeconds: options.tokenLifetimeSeconds ?? 3599,
    tokenRequestsPer10s: options.tokenRequestsPer10s ?? 300,
  });
  const graph = new GraphService(store, {
    deltaPageSize: options.deltaPageSize ?? 200,
    deltaMembersPerPage: options.deltaMembersPerPage ?? 500,
    softDeletedInDelta: options.softDeletedInDelta ?? 'id',
  });
  const throttle = new ResourceUnitThrottle(() => options.resourceUnitQuota ?? quotaFor(store.liveUsers));
  const tenant = tenantApi(store);
  let info: EmulatorInfo;
  // Apps and domains change while the emulator runs; the rest is fixed at start.
  const current = (): EmulatorInfo => ({
    ...info,
    tenantDomains: [...store.domains],
    apps: store.apps.map(copyApp),
  });
  const handler = new EmulatorHandler(hosts, store, identity, graph, throttle, settings, {
    info: () => current(),
    tenant: {
      add: (kind, body) => store.addObject(kind, body as Partial<GraphObject>),
      update: (kind, id, body) => store.updateObject(kind, id, body as Partial<GraphObject>),
      remove: (kind, id, permanent) => store.deleteObject(kind, id, permanent),
      restore: (kind, id) => store.restoreObject(kind, id),
      list: (kind) =>
        kind === 'user'
          ? tenant.listUsers()
          : kind === 'group'
            ? tenant.listGroups()
            : [...store.byId.values()].filter((o) => o.kind === kind && !o.deleted).map((o) => o.props),
      get: (kind, id) => {
        const o = store.get(id);
        if (!o || o.kind !== kind) throw new EmulatorError(404, `${kind} '${id}' does not exist`);
        return kind === 'group' ? { ...o.props, members: o.members } : o.props;
      },
      members: (g) => tenant.listMembers(g),
      addMember: (g, m) => store.addMember(g, m),
      removeMember: (g, m) => store.removeMember(g, m),
      apps: () => tenant.listApps(),
      addApp: (body) => store.addApp(body as Partial<EmulatorApp>),
      grantRoles: (c, r) => tenant.grantRoles(c, r),
      setRoles: (c, r) => tenant.setRoles(c, r),
      expireDeltaTokens: (mode) => tenant.expireDeltaTokens(mode),
      domains: () => tenant.listDomains(),
      addDomain: (name, verified) => tenant.addDomain(name, { verified }),
      verifyDomain: (name) => tenant.verifyDomain(name),
    },
  });
  const server: Server = createServer(
    { cert: tls.certPem, key: tls.keyPem, keepAliveTimeout: 65_000 },
    (req, res) => handler.handle(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? (options.asMicrosoft ? 443 : 0), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  hosts.setPort(port);
  info = {
    authorityHost: hosts.loginOrigin,
    graphBaseUrl: hosts.graphOrigin,
    hosts: hosts.dnsNames,
    cloud: options.asMicrosoft,
    caFile: tls.caFile,
    caPem: tls.caPem,
    tenantId: store.tenantId,
    tenantDomains: [...store.domains],
    apps: store.apps.map(copyApp),
    adminUrl: `${hosts.adminOrigin}/_emulator`,
  };
  let closed = false;
  return {
    get info() {
      return current();
    },
    tenant,
    stats: () => structuredClone(handler.stats),
    resetStats: () => {
      handler.resetStats();
      throttle.reset();
    },
    setLatency: (ms) => {
      settings.latencyMs = ms;
    },
    setFaultRate: (rate) => {
      settings.faultRate = rate;
    },
    setThrottling: (on) => {
      settings.throttle = on;
    },
    failNext: (fault) => handler.failNext(fault),
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownStateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
