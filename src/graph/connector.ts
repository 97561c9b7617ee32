/**
 * The Graph connector: reads an Entra tenant's users and groups (with direct members) into a
 * SourceSnapshot, fully or as changes on top of a previous one, and diagnoses a connection.
 * A leaf: it knows Graph and MSAL, and nothing of our database.
 */
import type { z } from 'zod';
import {
  applyDelta,
  type SourceDelta,
  type SourceGroup,
  type SourceSnapshot,
  type SourceUser,
  sourceDelta,
} from '../sync/source.js';
import { GraphClient } from './client.js';
import { adminConsentUrl, CLOUDS, type Cloud, type Endpoints, resolveEndpoints } from './clouds.js';
import { GroupDelta, UserDelta } from './delta.js';
import {
  DOMAIN_PERMISSION_PURPOSE,
  GraphError,
  type GraphErrorCode,
  grantsOptional,
  MAILBOX_PERMISSION_PURPOSE,
  missingPermissions,
  optionalPermissionDeniedHint,
  optionalPermissionHint,
  permissionDeniedHint,
  redact,
} from './errors.js';
import { type PurposeReaderOptions, readPurposes } from './mailbox-reads.js';
import {
  type MailboxReads,
  planMailboxReads,
  purposeChanges,
  purposeUnread,
  withPurposes,
} from './mailboxes.js';
import { type PagerCounters, pages } from './pager.js';
import { PATIENT, type Patience, type RetryPolicy, wholeSeconds } from './retry.js';
import { domainItemSchema, groupItemSchema, idItemSchema, userItemSchema } from './schemas.js';
import { identityErrorCode, TokenSource, tokenInfo } from './token.js';
import { Transport } from './transport.js';

/** How to reach one customer's tenant through the customer's app registration. */
export interface GraphConnection {
  /** The tenant: a verified domain (contoso.onmicrosoft.com) or the tenant GUID. */
  tenant: string;
  /** The app registration's Application (client) ID. */
  clientId: string;
  /** The client secret's Value. */
  clientSecret: string;
  cloud: Cloud;
  /** Overrides the cloud's token host (emulator, tests); an https origin. */
  authorityHost?: string;
  /** Overrides the cloud's Graph root (emulator, tests); an https origin. */
  graphUrl?: string;
  /** An extra CA certificate (PEM) to trust besides the system's, e.g. the emulator's. */
  caPem?: string;
}

/** Where the next delta read starts: the deltaLinks of the last completed read. */
export interface DeltaCursor {
  usersDeltaLink: string;
  groupsDeltaLink: string;
  /**
   * Users of that read whose mailbox purpose is needed and still unknown: the next read tries
   * them again even when the delta brings nothing. Absent in a cursor stored before it was kept
   * (then they are looked for in the previous snapshot).
   */
  unreadPurposes?: number;
  /** Their Entra ids (absent in a cursor stored before they were kept: then the count alone). */
  unreadPurposeIds?: string[];
}

/**
 * The previous read's records, as a delta read asks for them: by Entra id, those its pages name
 * (a 1 % change asks for 1 %); whole only when a collection is read in full again.
 */
export interface SourceMirror {
  /** The mirror's records of these users (ids it does not hold are left out). */
  users(ids: readonly string[]): Promise<SourceUser[]>;
  /** The mirror's records of these groups, member lists sorted. */
  groups(ids: readonly string[]): Promise<SourceGroup[]>;
  /** The whole mirror, in Entra id order. */
  load(): Promise<SourceSnapshot>;
}

/** A snapshot in memory as a mirror. */
export function mirrorOf(snapshot: SourceSnapshot): SourceMirror {
  const byId = <T extends { externalId: string }>(all: readonly T[]) => {
    const map = new Map(all.map((o) => [o.externalId, o]));
    return async (ids: readonly string[]) => ids.flatMap((id) => map.get(id) ?? []);
  };
  return { users: byId(snapshot.users), groups: byId(snapshot.groups), load: async () => snapshot };
}

/** Request counts of one read (Graph requests; token requests apart). */
export interface ReadStats {
  /** Graph HTTP requests, retries included (the mailbox purposes' $batch requests too). */
  requests: number;
  /** Retries: requests sent again, and $batch requests re-sent for throttled items. */
  retries: number;
  /** 429 answers, to requests and to $batch items. */
  throttled: number;
  /** Pages received and validated. */
  pages: number;
  /** Token endpoint requests (usually 0 or 1: tokens are reused). */
  tokenRequests: number;
  /** Rounds started over because Microsoft declared a nextLink's page token expired. */
  roundRestarts: number;
}

/** A completed read: the tenant's picture, the cursor for the next delta, how it was made. */
export interface ReadResult {
  snapshot: SourceSnapshot;
  cursor: DeltaCursor;
  /** 'full-after-expired-delta': a delta link had expired or was reset, so that collection was read fully. */
  mode: 'full' | 'delta' | 'full-after-expired-delta';
  /**
   * Objects (and @removed entries) received, plus users whose mailbox purpose read differs from
   * the previous snapshot's: 0 on a delta read means nothing changed in Entra.
   */
  changes: number;
  stats: ReadStats;
  /** The mailbox purposes read after the users round (only where they decide something). */
  mailboxes: MailboxReads;
}

/**
 * A read onto the mirror (readChangesOnto): a delta read answers what it changed, as records
 * (`delta`; empty when nothing changed); a read with a collection read in full answers the
 * whole picture.
 */
export type ReadOnto = Omit<ReadResult, 'snapshot'> &
  ({ snapshot: null; delta: SourceDelta } | { snapshot: SourceSnapshot; delta?: undefined });

/** Progress of a read, reported after every page. */
export interface ReadProgress {
  phase: 'users' | 'groups' | 'mailboxes';
  /** Pages received so far in this phase (`$batch` answers, for mailboxes). */
  pages: number;
  /** Objects received so far in this phase (changes, for a delta read; purposes read, for mailboxes). */
  objectsRead: number;
  /**
   * How many objects the phase will read, when that is known beforehand: the mailboxes to read,
   * or (for a full read of a collection whose delta link expired) the previous read's count.
   */
  expected?: number;
}

/** Tunables of a connector. */
export interface ConnectorOptions {
  /** Requests in flight at once for this tenant (default 4; Microsoft advises a few per tenant). */
  concurrency?: number;
  /** How long to wait for Microsoft: PATIENT (default) for syncs, INTERACTIVE for a person waiting. */
  patience?: Patience;
  /** Retries of one request on 429/503/504/dropped connections (default: the patience's). */
  maxRetries?: number;
  onProgress?: (progress: ReadProgress) => void;
  /**
   * Stops a read at its next page (or `$batch`): the read rejects with the signal's reason, and
   * no further request is sent.
   */
  signal?: AbortSignal;
  /** Waits between retries; injectable so tests need not wait for real. */
  sleep?: (ms: number) => Promise<void>;
  /** Other retry tunables (backoff steps, longest accepted Retry-After). */
  retry?: Partial<RetryPolicy>;
}

/** A domain of the tenant (GET /domains): a verified one is proven the tenant's by Microsoft. */
export interface TenantDomain {
  /** The domain name, lower-cased. */
  name: string;
  isVerified: boolean;
}

/** One step of a connection test. */
export interface DiagnosticStep {
  /**
   * `mailboxes` and `domains` check the optional MailboxSettings.Read and Domain.Read.All: they are
   * always ok, their message says what is missing and what it is for.
   */
  step: 'token' | 'tenant' | 'users' | 'groups' | 'members' | 'mailboxes' | 'domains';
  ok: boolean;
  /** Not run because an earlier step failed. */
  skipped?: boolean;
  code?: GraphErrorCode;
  /** What was found, or Microsoft's text of the failure. */
  message?: string;
  /** What the admin should do (also given on a passing token step that lacks permissions). */
  hint?: string;
}

/** The result of diagnose(): every step, the tenant's GUID and granted permissions when known. */
export interface DiagnosticReport {
  ok: boolean;
  steps: DiagnosticStep[];
  tenantId?: string;
  roles?: string[];
  consentUrl: string;
}

/** Properties each SourceUser / SourceGroup field needs, and nothing else. */
const USER_SELECT =
  'id,userPrincipalName,userType,accountEnabled,mail,proxyAddresses,givenName,surname,displayName';
const GROUP_SELECT = 'id,displayName,mail,mailEnabled,securityEnabled,groupTypes,proxyAddresses,members';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The tenant check @azure/identity applies; domains and GUIDs pass. */
const TENANT = /^[0-9a-zA-Z-.]+$/;
/** Multi-tenant aliases the client-credentials grant refuses (AADSTS9001023) or that name no tenant. */
const NOT_A_TENANT = new Set(['common', 'organizations', 'consumers']);
/**
 * Times one read may start a collection's round over after Directory_ExpiredPageToken: enough
 * for a page token that aged once, few enough that a server always answering it ends the read.
 */
const MAX_ROUND_RESTARTS = 2;

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Checks a connection's fields before anything is sent; returns the first problem. */
export function validateConnection(c: GraphConnection): GraphError | undefined {
  const bad = (code: GraphErrorCode, detail: string) => new GraphError(code, detail);
  if (!c.tenant || !TENANT.test(c.tenant) || NOT_A_TENANT.has(c.tenant.toLowerCase())) {
    return bad('malformed_tenant', `tenant '${c.tenant}' is neither a domain name nor a tenant ID`);
  }
  if (!GUID.test(c.clientId)) return bad('invalid_config', `client ID '${c.clientId}' is not a GUID`);
  if (!c.clientSecret) return bad('invalid_config', 'the client secret is empty');
  if (!Object.hasOwn(CLOUDS, c.cloud)) return bad('invalid_config', `unknown cloud '${c.cloud}'`);
  for (const [field, value] of [
    ['authority host', c.authorityHost],
    ['Graph URL', c.graphUrl],
  ] as const) {
    if (value === undefined) continue;
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
    }
    // MSAL refuses non-https authorities, and a bearer token must never travel in clear text.
    if (url?.protocol !== 'https:' || (url.pathname !== '/' && url.pathname !== '')) {
      return bad('invalid_config', `${field} '${value}' is not an https origin (https://host[:port])`);
    }
  }
  return undefined;
}

/** The parts of a connector that exist once its connection is valid. */
interface Wired {
  endpoints: Endpoints;
  transport: Transport;
  tokens: TokenSource;
  client: GraphClient;
  /** The connection's retry policy (the transport's; also bounds retries of throttled $batch items). */
  retry: RetryPolicy;
}

/** Reads users and groups (with members) from one Entra tenant through Microsoft Graph. */
export class GraphConnector {
  private readonly wired: Wired | undefined;
  private readonly configError: GraphError | undefined;
  private readonly pagerCounters: PagerCounters = { pages: 0 };
  /** The admin-consent link for this tenant and app. */
  readonly consentUrl: string;

  constructor(
    private readonly connection: GraphConnection,
    private readonly options: ConnectorOptions = {},
  ) {
    // An invalid connection is reported by every call (and as diagnose()'s token step), not thrown
    // here, so a settings screen can always run the test and show the sentence.
    this.configError = validateConnection(connection);
    const endpoints = resolveEndpoints(CLOUDS[connection.cloud] ? connection.cloud : 'global', connection);
    this.consentUrl = adminConsentUrl(endpoints, connection.tenant, connection.clientId);
    if (this.configError) return;
    const patience = this.patience;
    const retry: RetryPolicy = {
      ...patience.retry,
      ...options.retry,
      maxRetries: options.maxRetries ?? options.retry?.maxRetries ?? patience.retry.maxRetries,
    };
    const transport = new Transport({
      caPem: connection.caPem,
      concurrency: this.tenantConcurrency,
      retry,
      sleep: options.sleep ?? realSleep,
      timeoutMs: patience.requestTimeoutMs,
      connectTimeoutMs: patience.connectTimeoutMs,
    });
    const tokens = new TokenSource(
      {
        authorityHost: endpoints.authorityHost,
        graphUrl: endpoints.graphUrl,
        tenant: connection.tenant,
        clientId: connection.clientId,
        clientSecret: connection.clientSecret,
      },
      transport,
    );
    const client = new GraphClient(transport, tokens, () =>
      permissionDeniedHint(tokens.info?.roles, this.consentUrl),
    );
    this.wired = { endpoints, transport, tokens, client, retry };
  }

  private get patience(): Patience {
    return this.options.patience ?? PATIENT;
  }

  private get tenantConcurrency(): number {
    return this.options.concurrency ?? 4;
  }

  /** Full read: an initial delta round for users and for groups with members. */
  async readFull(): Promise<ReadResult> {
    const result = await this.read(undefined);
    // Without a previous snapshot every round reads from scratch, so there always is one.
    return { ...result, snapshot: result.snapshot! };
  }

  /**
   * Delta read on top of a previous snapshot. A collection whose delta link expired or was reset
   * (or belongs to another Graph root) is read fully instead (mode 'full-after-expired-delta'); the
   * result is still a complete snapshot, so the caller's set difference finds the removals.
   */
  async readChanges(previous: { snapshot: SourceSnapshot; cursor: DeltaCursor }): Promise<ReadResult> {
    const result = await this.readChangesOnto({
      cursor: previous.cursor,
      mirror: mirrorOf(previous.snapshot),
    });
    return { ...result, snapshot: result.snapshot ?? applyDelta(previous.snapshot, result.delta) };
  }

  /**
   * Delta read on top of the mirror, asking it only for the records a round's pages name (and
   * the users whose purpose is still to be read): the answer is the delta, as records before and
   * after (`delta`, `snapshot: null`). A collection read in full (its delta link expired) makes
   * the answer a whole snapshot instead, the mirror loaded whole to build it.
   */
  readChangesOnto(previous: { cursor: DeltaCursor; mirror: SourceMirror }): Promise<ReadOnto> {
    return this.read({ cursor: previous.cursor, mirror: previous.mirror });
  }

  private async read(previous: { cursor: DeltaCursor; mirror: SourceMirror } | undefined): Promise<ReadOnto> {
    const mirror = previous && { ...previous.mirror, load: once(() => previous.mirror.load()) };
    const w = this.ready();
    const before = { ...w.transport.stats, pages: this.pagerCounters.pages };
    // Users and groups are independent chains of pages: read them side by side. When one fails,
    // the other stops at its next page rather than reading on for nothing.
    const stop = { failed: false };
    const guard = <T>(p: Promise<T>) =>
      p.catch((error: unknown) => {
        stop.failed = true;
        throw error;
      });
    const readUsers = async () => {
      const round = await this.readCollection(
        'users',
        userItemSchema,
        (prior) => new UserDelta(prior),
        previous?.cursor.usersDeltaLink,
        stop,
        mirror && { byId: mirror.users, whole: async () => (await mirror.load()).users },
      );
      if (round.part.kind === 'whole') {
        const read = await this.readMailboxes(round.part.records, round.part.before, stop);
        return {
          ...round,
          ...read,
          part: { kind: 'whole' as const, records: read.users, before: round.part.before },
        };
      }
      // A delta round: its users, and those whose purpose is still unknown (tried again even when
      // the delta brings nothing). A cursor from before the ids were kept names none: all are looked at.
      const cursor = previous!.cursor;
      const touched = new Set([...round.part.before, ...round.part.after].map((u) => u.externalId));
      const retry =
        cursor.unreadPurposeIds !== undefined
          ? cursor.unreadPurposeIds.length > 0
            ? await mirror!.users(cursor.unreadPurposeIds)
            : []
          : cursor.unreadPurposes === 0
            ? []
            : (await mirror!.load()).users;
      const untouched = retry.filter((u) => !touched.has(u.externalId));
      const prior = [...round.part.before, ...untouched];
      // Purposes are read while the groups round goes on: they need only the users.
      const read = await this.readMailboxes([...round.part.after, ...untouched], prior, stop);
      return { ...round, ...read, part: { kind: 'delta' as const, before: prior, after: read.users } };
    };
    const [users, groups] = await settleAll([
      guard(readUsers()),
      guard(
        this.readCollection(
          'groups',
          groupItemSchema,
          (prior) => new GroupDelta(prior),
          previous?.cursor.groupsDeltaLink,
          stop,
          mirror && { byId: mirror.groups, whole: async () => (await mirror.load()).groups },
        ),
      ),
    ] as const);
    const after = w.transport.stats;
    const u = users.part;
    const g = groups.part;
    const purposesChanged = u.before ? purposeChanges(u.kind === 'whole' ? u.records : u.after, u.before) : 0;
    // Purposes still unknown: carried over from the cursor but for the users looked at now.
    const unread = new Set(u.kind === 'delta' ? (previous?.cursor.unreadPurposeIds ?? []) : []);
    for (const user of u.before ?? []) unread.delete(user.externalId);
    for (const user of u.kind === 'whole' ? u.records : u.after) {
      if (purposeUnread(user)) unread.add(user.externalId);
    }
    const rest = {
      cursor: {
        usersDeltaLink: users.deltaLink,
        groupsDeltaLink: groups.deltaLink,
        unreadPurposes: unread.size,
        unreadPurposeIds: [...unread].sort(),
      },
      mode: !previous
        ? ('full' as const)
        : users.fellBack || groups.fellBack
          ? ('full-after-expired-delta' as const)
          : ('delta' as const),
      changes: users.objectsRead + groups.objectsRead + purposesChanged,
      stats: {
        requests: after.requests - before.requests,
        retries: after.retries - before.retries + users.itemRetries,
        throttled: after.throttled - before.throttled + users.itemsThrottled,
        pages: this.pagerCounters.pages - before.pages,
        tokenRequests: after.tokenRequests - before.tokenRequests,
        roundRestarts: users.restarts + groups.restarts,
      },
      mailboxes: users.mailboxes,
    };
    if (u.kind === 'delta' && g.kind === 'delta') {
      const delta = sourceDelta({ users: u.before, groups: g.before }, { users: u.after, groups: g.after });
      return { ...rest, snapshot: null, delta };
    }
    // A collection read whole: the other, read as a delta, is applied onto the whole mirror.
    const m = await mirror?.load();
    const snapshot = {
      users:
        u.kind === 'whole'
          ? u.records
          : applyDelta(m!, sourceDelta({ users: u.before, groups: [] }, { users: u.after, groups: [] }))
              .users,
      groups:
        g.kind === 'whole'
          ? g.records
          : applyDelta(m!, sourceDelta({ users: [], groups: g.before }, { users: [], groups: g.after }))
              .groups,
    };
    return { ...rest, snapshot };
  }

  /**
   * Reads the purposes of the users that need it (planMailboxReads) and returns the users with
   * them. Never fails the read: what could not be read stays unknown and is reported.
   */
  private async readMailboxes(
    users: SourceUser[],
    previous: readonly SourceUser[] | undefined,
    stop: { failed: boolean },
  ): Promise<{ users: SourceUser[]; mailboxes: MailboxReads; itemRetries: number; itemsThrottled: number }> {
    const w = this.ready();
    const plan = planMailboxReads(users, previous);
    const signal = this.options.signal;
    let batches = 0;
    const reads = await readPurposes(plan.toRead, w.tokens.info?.roles, {
      ...this.purposeReader(w),
      // One permit left for the groups round's chain of pages, which runs alongside.
      batchesInFlight: Math.max(1, this.tenantConcurrency - 1),
      onProgress: (read) =>
        this.options.onProgress?.({
          phase: 'mailboxes',
          pages: ++batches,
          objectsRead: read,
          expected: plan.toRead.length,
        }),
      stopped: () => stop.failed || signal?.aborted === true,
    });
    // The reader stops sending batches once aborted and returns what it has: that is no read.
    signal?.throwIfAborted();
    return {
      users: withPurposes(plan, reads.purposes),
      mailboxes: { needed: plan.toRead.length, ...reads.report },
      itemRetries: reads.retries,
      itemsThrottled: reads.throttled,
    };
  }

  private purposeReader(w: Wired): Pick<PurposeReaderOptions, 'client' | 'graphUrl' | 'retry' | 'sleep'> {
    return {
      client: w.client,
      graphUrl: w.endpoints.graphUrl,
      retry: w.retry,
      sleep: this.options.sleep ?? realSleep,
    };
  }

  /**
   * Reads one collection from its delta link, or from scratch when there is none or it expired.
   * A round whose page token expired is started over from its own start, with fresh state.
   */
  private async readCollection<
    S extends z.ZodType<{ id: string }>,
    P extends { externalId: string },
    D extends { apply(items: z.output<S>[]): void; result(): P[] },
  >(
    phase: 'users' | 'groups',
    schema: S,
    /** The state pages are applied to: on top of the previous records, or from nothing. */
    makeState: (prior: readonly P[] | undefined) => D,
    deltaLink: string | undefined,
    stop: { failed: boolean },
    /** The previous read's records of this collection: those of some objects, or all. */
    prior: { byId(ids: string[]): Promise<P[]>; whole(): Promise<readonly P[]> } | undefined,
  ): Promise<{
    /**
     * `delta`: a delta round — the previous records of the objects its pages named and their
     * records now (none for one removed). `whole`: a full round's records, and on a fallback
     * after an expired link the previous ones (`before`).
     */
    part: { kind: 'delta'; before: P[]; after: P[] } | { kind: 'whole'; records: P[]; before?: readonly P[] };
    deltaLink: string;
    objectsRead: number;
    fellBack: boolean;
    restarts: number;
  }> {
    const w = this.ready();
    const select = phase === 'users' ? USER_SELECT : GROUP_SELECT;
    const initial = `${w.endpoints.graphUrl}/v1.0/${phase}/delta?$select=${select}`;
    // A link of another Graph root (the cloud setting changed) is never followed: start over.
    let start = deltaLink !== undefined && sameOrigin(deltaLink, w.endpoints.graphUrl) ? deltaLink : initial;
    let restarts = 0;
    for (;;) {
      const incremental = start !== initial;
      try {
        if (incremental) {
          // A delta round brings changes only (how many is not known beforehand): its pages are
          // kept and merged once it is complete, onto the previous records of the objects they
          // name — asked of the mirror by id, so a 1 % change reads 1 % of it.
          const pages: z.output<S>[][] = [];
          const round = await this.round(phase, start, schema, { apply: (items) => pages.push(items) }, stop);
          const ids = [...new Set(pages.flatMap((items) => items.map((item) => item.id)))];
          const before = ids.length > 0 ? await prior!.byId(ids) : [];
          const state = makeState(before);
          for (const items of pages) state.apply(items);
          return {
            part: { kind: 'delta', before, after: state.result() },
            ...round,
            fellBack: false,
            restarts,
          };
        }
        const fellBack = deltaLink !== undefined;
        // A full read after an expired link is expected to bring about what the previous one held.
        const previous = fellBack && prior ? await prior.whole() : undefined;
        const state = makeState(undefined);
        const round = await this.round(phase, start, schema, state, stop, previous?.length);
        return {
          part: { kind: 'whole', records: state.result(), ...(previous ? { before: previous } : {}) },
          ...round,
          fellBack,
          restarts,
        };
      } catch (error) {
        if (!(error instanceof GraphError)) throw error;
        if (error.code === 'delta_expired' && incremental) {
          start = initial;
        } else if (error.code === 'page_expired' && restarts < MAX_ROUND_RESTARTS) {
          restarts++;
        } else if (error.code === 'page_expired') {
          throw new GraphError(
            'page_expired',
            `${error.detail} (${phase} delta round started over ${restarts} times)`,
            { status: error.status, requestId: error.requestId, cause: error },
          );
        } else {
          throw error;
        }
      }
    }
  }

  /** One delta round: every page from `url` applied to `state`; returns the round's deltaLink and item count. */
  private async round<S extends z.ZodType>(
    phase: 'users' | 'groups',
    url: string,
    schema: S,
    state: { apply(items: z.output<S>[]): void },
    stop: { failed: boolean },
    expected?: number,
  ): Promise<{ deltaLink: string; objectsRead: number }> {
    const w = this.ready();
    const signal = this.options.signal;
    signal?.throwIfAborted();
    let objectsRead = 0;
    let pagesRead = 0;
    let deltaLink: string | undefined;
    const what = `${phase} delta`;
    for await (const page of pages(
      w.client,
      url,
      schema,
      { what, graphUrl: w.endpoints.graphUrl },
      this.pagerCounters,
    )) {
      state.apply(page.items);
      objectsRead += page.items.length;
      pagesRead++;
      deltaLink = page.deltaLink;
      this.options.onProgress?.({
        phase,
        pages: pagesRead,
        objectsRead,
        ...(expected === undefined ? {} : { expected }),
      });
      // Checked between pages: the request of the next page is never sent.
      signal?.throwIfAborted();
      if (stop.failed) throw new Stopped();
    }
    if (!deltaLink)
      throw new GraphError('malformed_payload', `${what}: the last page has no @odata.deltaLink`);
    return { deltaLink, objectsRead };
  }

  /**
   * The tenant's domains, verified or not (GET /domains; needs Domain.Read.All, or
   * Domain.ReadWrite.All or Directory.Read.All). Without the permission: permission_denied, its
   * hint naming Domain.Read.All and the consent link.
   */
  async tenantDomains(): Promise<TenantDomain[]> {
    const w = this.ready();
    const graph = w.endpoints.graphUrl;
    const url = `${graph}/v1.0/domains?$select=id,isVerified`;
    const domains: TenantDomain[] = [];
    try {
      for await (const page of pages(w.client, url, domainItemSchema, { what: 'domains', graphUrl: graph })) {
        for (const d of page.items) domains.push({ name: d.id.toLowerCase(), isVerified: d.isVerified });
      }
    } catch (error) {
      // The client's hint names the sync's permissions; this read needs another one.
      if (!(error instanceof GraphError) || error.code !== 'permission_denied') throw error;
      throw new GraphError('permission_denied', error.detail, {
        hint: optionalPermissionDeniedHint('Domain.Read.All', w.tokens.info?.roles, this.consentUrl),
        status: error.status,
        requestId: error.requestId,
        cause: error,
      });
    }
    return domains;
  }

  /**
   * Asks for one token and nothing else, within the patience's test deadline: whether the
   * identity platform accepts this tenant, client ID and key. Throws the GraphError it answered.
   */
  async signIn(): Promise<void> {
    if (this.configError || !this.wired) throw this.configError ?? new GraphError('invalid_config', '');
    const w = this.wired;
    const budget = new TestBudget(this.patience.testDeadlineMs);
    try {
      await budget.run('token', w.endpoints.authorityHost, () => w.tokens.renew());
    } catch (error) {
      if (error instanceof NotRun) throw new GraphError('network', error.message);
      throw error;
    }
  }

  /**
   * Diagnostics: token, tenant, then one probe read each of users, groups and members, and the
   * optional MailboxSettings.Read (one user's mailbox purpose) and Domain.Read.All (the tenant's
   * domains) — all within the patience's test deadline (pass INTERACTIVE when a person waits for
   * the answer).
   */
  async diagnose(): Promise<DiagnosticReport> {
    const steps: DiagnosticStep[] = [];
    const fail = (step: DiagnosticStep['step'], error: unknown): DiagnosticStep => {
      if (error instanceof NotRun) return { step, ok: false, skipped: true, message: error.message };
      if (!(error instanceof GraphError)) throw error;
      return { step, ok: false, code: error.code, message: error.detail, hint: error.hint };
    };
    const skip = (...names: DiagnosticStep['step'][]) => {
      for (const step of names)
        steps.push({ step, ok: false, skipped: true, message: 'not run: an earlier step failed' });
    };
    // The optional permissions never fail a test, not even when they could not be checked.
    const skipOptional = () => {
      for (const step of ['mailboxes', 'domains'] as const)
        steps.push({ step, ok: true, skipped: true, message: 'not run: an earlier step failed' });
    };
    const report = (extra: Partial<DiagnosticReport> = {}): DiagnosticReport => ({
      ok: steps.every((s) => s.ok),
      steps,
      consentUrl: this.consentUrl,
      ...extra,
    });
    if (this.configError || !this.wired) {
      steps.push(fail('token', this.configError));
      skip('tenant', 'users', 'groups', 'members');
      skipOptional();
      return report();
    }
    const w = this.wired;
    const budget = new TestBudget(this.patience.testDeadlineMs);
    const login = w.endpoints.authorityHost;
    const graph = w.endpoints.graphUrl;

    let tokenOk = false;
    try {
      const info = tokenInfo(await budget.run('token', login, () => w.tokens.get()));
      tokenOk = true;
      const roles = info.roles;
      const missing = roles ? missingPermissions(roles) : [];
      steps.push({
        step: 'token',
        ok: true,
        message:
          roles === undefined
            ? 'Token issued (its permissions could not be read).'
            : `Token issued; application permissions granted: ${roles.length ? roles.join(', ') : 'none'}.`,
        ...(missing.length ? { hint: permissionDeniedHint(roles, this.consentUrl) } : {}),
      });
    } catch (error) {
      steps.push(fail('token', error));
    }
    const roles = w.tokens.info?.roles;

    let tenantId: string | undefined;
    try {
      tenantId = await budget.run('tenant', login, () => this.resolveTenant(w));
      const tokenTenant = w.tokens.info?.tenantId;
      if (tokenTenant && tokenTenant.toLowerCase() !== tenantId.toLowerCase()) {
        throw new GraphError(
          'unknown_tenant',
          `tenant resolves to ${tenantId} but the token was issued by ${tokenTenant}`,
        );
      }
      steps.push({
        step: 'tenant',
        ok: true,
        message: `Tenant ${this.connection.tenant} has ID ${tenantId}.`,
      });
    } catch (error) {
      steps.push(fail('tenant', error));
    }

    if (!tokenOk) {
      skip('users', 'groups', 'members');
      skipOptional();
      return report({ ...(tenantId ? { tenantId } : {}) });
    }
    const probe = (step: DiagnosticStep['step'], path: string): Promise<string[]> =>
      budget.run(step, graph, async () => {
        const what = `${step} probe`;
        for await (const page of pages(w.client, `${graph}/v1.0/${path}`, idItemSchema, {
          what,
          graphUrl: graph,
        })) {
          return page.items.map((item) => item.id);
        }
        return [];
      });
    let userId: string | undefined;
    try {
      const ids = await probe('users', 'users?$select=id&$top=1');
      userId = ids[0];
      steps.push({
        step: 'users',
        ok: true,
        message: ids.length ? 'Users can be read.' : 'Users can be read (none found).',
      });
    } catch (error) {
      steps.push(fail('users', error));
    }
    let groupId: string | undefined;
    try {
      [groupId] = await probe('groups', 'groups?$select=id&$top=1');
      steps.push({
        step: 'groups',
        ok: true,
        message: groupId ? 'Groups can be read.' : 'Groups can be read (none found).',
      });
    } catch (error) {
      steps.push(fail('groups', error));
    }
    if (groupId === undefined) {
      const failedGroups = steps.some((s) => s.step === 'groups' && !s.ok);
      if (failedGroups) skip('members');
      else steps.push({ step: 'members', ok: true, message: 'No group to read members of.' });
    } else {
      try {
        await probe('members', `groups/${encodeURIComponent(groupId)}/members?$select=id&$top=1`);
        steps.push({ step: 'members', ok: true, message: 'Group members can be read.' });
      } catch (error) {
        steps.push(fail('members', error));
      }
    }
    steps.push(await this.mailboxStep(w, budget, roles, userId));
    steps.push(await this.domainStep(w, budget, roles));
    return report({ ...(tenantId ? { tenantId } : {}), ...(roles ? { roles } : {}) });
  }

  /**
   * The optional MailboxSettings.Read: always ok. Not granted (by the token's roles, or Exchange
   * denying a probe read): what it is for and how to grant it. Granted: one user's purpose is
   * read through the same $batch path as a sync, within the test's deadline.
   */
  private async mailboxStep(
    w: Wired,
    budget: TestBudget,
    roles: readonly string[] | undefined,
    userId: string | undefined,
  ): Promise<DiagnosticStep> {
    const step = 'mailboxes';
    const notGranted = (finding: string): DiagnosticStep => ({
      step,
      ok: true,
      message: `${finding} It is optional, and needed ${MAILBOX_PERMISSION_PURPOSE}.`,
      hint: optionalPermissionHint('MailboxSettings.Read', this.consentUrl),
    });
    if (roles !== undefined && !grantsOptional(roles, 'MailboxSettings.Read')) {
      return notGranted('MailboxSettings.Read is not granted (the token does not carry it).');
    }
    const works =
      'MailboxSettings.Read is granted: shared, room and equipment mailboxes with sign-in blocked are told apart';
    // Without a readable roles claim only Exchange's answer can tell.
    const unproven =
      roles === undefined
        ? "Whether MailboxSettings.Read is granted could not be told (the token's permissions could not be read)"
        : 'MailboxSettings.Read is granted';
    if (userId === undefined)
      return { step, ok: true, message: `${unproven} (no user could be read to try it on).` };
    let reads: Awaited<ReturnType<typeof readPurposes>>;
    try {
      reads = await budget.run(step, w.endpoints.graphUrl, () =>
        readPurposes([userId], roles, { ...this.purposeReader(w), batchesInFlight: 1, stopped: () => false }),
      );
    } catch (error) {
      if (error instanceof NotRun) return { step, ok: true, skipped: true, message: error.message };
      if (!(error instanceof GraphError)) throw error;
      return { step, ok: true, code: error.code, message: `${unproven}; trying it failed: ${error.detail}` };
    }
    const issue = reads.report.issues[0];
    if (reads.report.denied) {
      return notGranted(
        `MailboxSettings.Read is not in effect: Exchange denied reading a mailbox's settings (${issue?.detail}); ` +
          'consent given in the last minutes may still be propagating, or an application access policy limits the app to some mailboxes.',
      );
    }
    if (reads.report.read === 1)
      return { step, ok: true, message: `${works} (one user's mailbox purpose read).` };
    if (issue?.cause === 'no_exchange_mailbox') {
      return { step, ok: true, message: `${works} (the user tried has no Exchange Online mailbox).` };
    }
    return {
      step,
      ok: true,
      message: `${unproven}; reading one user's purpose failed: ${issue?.detail ?? 'no answer'}`,
    };
  }

  /**
   * The optional Domain.Read.All: always ok. Not granted (by the token's roles, or Graph denying
   * the read): what it is for and how to grant it. Granted: the tenant's domains, read within the
   * test's deadline, verified and not.
   */
  private async domainStep(
    w: Wired,
    budget: TestBudget,
    roles: readonly string[] | undefined,
  ): Promise<DiagnosticStep> {
    const step = 'domains';
    const notGranted = (finding: string, hint: string): DiagnosticStep => ({
      step,
      ok: true,
      message: `${finding} It is optional, and needed ${DOMAIN_PERMISSION_PURPOSE}.`,
      hint,
    });
    if (roles !== undefined && !grantsOptional(roles, 'Domain.Read.All')) {
      return notGranted(
        'Domain.Read.All is not granted (the token does not carry it).',
        optionalPermissionHint('Domain.Read.All', this.consentUrl),
      );
    }
    let domains: TenantDomain[];
    try {
      domains = await budget.run(step, w.endpoints.graphUrl, () => this.tenantDomains());
    } catch (error) {
      if (error instanceof NotRun) return { step, ok: true, skipped: true, message: error.message };
      if (!(error instanceof GraphError)) throw error;
      if (error.code === 'permission_denied') {
        return notGranted(
          `Domain.Read.All is not in effect: Microsoft Graph denied reading the domains (${error.detail}).`,
          error.hint,
        );
      }
      return { step, ok: true, code: error.code, message: `Reading the domains failed: ${error.detail}` };
    }
    const names = (verified: boolean) => domains.filter((d) => d.isVerified === verified).map((d) => d.name);
    const verified = names(true);
    const unverified = names(false);
    return {
      step,
      ok: true,
      message:
        `Domains can be read: verified ${verified.length ? verified.join(', ') : 'none'}` +
        `${unverified.length ? `; not verified: ${unverified.join(', ')}` : ''}.`,
    };
  }

  /** The tenant's GUID from its OpenID configuration (issuer `{host}/{guid}/v2.0`). */
  private async resolveTenant(w: Wired): Promise<string> {
    const url = `${w.endpoints.authorityHost}/${encodeURIComponent(this.connection.tenant)}/v2.0/.well-known/openid-configuration`;
    const res = await w.transport.send({
      method: 'GET',
      url,
      headers: { accept: 'application/json' },
      purpose: 'token',
    });
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(res.text);
      body = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
    }
    if (res.status !== 200) {
      const err = typeof body?.error === 'string' ? body.error : `HTTP ${res.status}`;
      const codes = Array.isArray(body?.error_codes) ? body.error_codes : [];
      const description =
        typeof body?.error_description === 'string' ? body.error_description.split(/\r?\n/)[0] : '';
      const detail = redact(`[${err}] ${description}`.trim(), this.connection.clientSecret);
      const code = identityErrorCode(codes[0] === undefined ? undefined : String(codes[0]), err, res.status);
      throw new GraphError(code, detail, { status: res.status });
    }
    const issuer = typeof body?.issuer === 'string' ? body.issuer : '';
    const guid = /\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:\/|$)/i.exec(
      issuer,
    )?.[1];
    if (!guid)
      throw new GraphError(
        'malformed_payload',
        `OpenID configuration of the tenant has no tenant ID in its issuer '${issuer}'`,
      );
    return guid;
  }

  /** Releases keep-alive connections. */
  async close(): Promise<void> {
    await this.wired?.transport.close();
  }

  private ready(): Wired {
    if (this.configError || !this.wired)
      throw this.configError ?? new GraphError('invalid_config', 'connection not set up');
    return this.wired;
  }
}

/** True when a link is on the Graph root's origin. */
function sameOrigin(link: string, graphUrl: string): boolean {
  try {
    return new URL(link).origin === new URL(graphUrl).origin;
  } catch (error) {
    if (error instanceof TypeError) return false;
    throw error;
  }
}

/** A connection-test step that was not run; its message says why. */
class NotRun extends Error {}

/**
 * What a connection test has left: one deadline for all its steps, and the hosts already found
 * unreachable (trying one again would only spend the deadline on the same answer).
 */
class TestBudget {
  private readonly deadline: number;
  private readonly unreachable = new Map<string, DiagnosticStep['step']>();

  constructor(private readonly limitMs: number) {
    this.deadline = Date.now() + limitMs;
  }

  /** Runs one step's work against `origin` within the time left; throws NotRun when it may not start. */
  async run<T>(step: DiagnosticStep['step'], origin: string, work: () => Promise<T>): Promise<T> {
    const host = new URL(origin).host;
    const failedIn = this.unreachable.get(host);
    if (failedIn) throw new NotRun(`not run: ${host} could not be reached in the ${failedIn} step`);
    const left = this.deadline - Date.now();
    const limit = `the connection test stops after ${wholeSeconds(this.limitMs)} s`;
    if (left <= 0) throw new NotRun(`not run: ${limit}`);
    try {
      const late = () =>
        new GraphError('network', `${host} did not answer within ${wholeSeconds(left)} s (${limit})`);
      return await within(work(), left, late);
    } catch (error) {
      if (error instanceof GraphError && error.code === 'network') this.unreachable.set(host, step);
      throw error;
    }
  }
}

/**
 * Settles as `work` does, or rejects with `late()` after `ms`. The work itself goes on until its
 * own timeouts or the transport's close(), which aborts it.
 */
async function within<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(late()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a collection's read because the other one failed; never escapes read(). */
class Stopped extends Error {}

/** Waits for every promise, then rejects with the first real failure (none left running). */
async function settleAll<T extends readonly Promise<unknown>[]>(
  promises: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  const failures = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason);
  if (failures.length) throw failures.find((e) => !(e instanceof Stopped)) ?? failures[0];
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** A loader that loads once: every caller gets the same promise. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    loaded ??= load();
    return loaded;
  };
}
