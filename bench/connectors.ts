/**
 * Connectors the benchmark plugs into the product through its ConnectorFactory: ours, recording
 * the read's stats, and the baseline — the read strategy of the peer people run today, Bitwarden
 * Directory Connector's Entra ID reader, so "vs the peer's strategy" compares with that.
 *
 * The peer's strategy, as read in bitwarden/directory-connector,
 * src/services/directory-services/entra-id-directory.service.ts (EntraIdDirectoryService.getEntries;
 * the older src/services/azure-directory.service.ts reads the same way) and src/services/sync.service.ts:
 * - One `@microsoft/microsoft-graph-client` Client.init({ authProvider }): the SDK's default
 *   middleware chain. Its RetryHandler retries 429, 503 and 504 up to 3 times, waiting Retry-After
 *   or 3 s (+ backoff from the second retry); a dropped connection (fetch throws) is not retried
 *   and fails the sync. Token: client-credentials POST, reused until 2 minutes before expiry.
 * - Every sync, one request after another (each `await`ed): all of GET /users?$select=id,mail,
 *   userPrincipalName,displayName,accountEnabled (no $top: pages of 100); then /users/delta with
 *   the same $select to find deleted users — a full round when there is no stored deltaLink (first
 *   sync, or `force`/overwriteExisting), else the stored deltaLink (falling back to a full round when
 *   that fails); then all of GET /groups (no $select, no $top) and, per group in turn, all of
 *   GET /groups/{id}/members (direct members, no $select; nesting is flattened client-side).
 * - Nothing is delta-read but deletions: a sync where nothing changed reads /users, /groups and
 *   every group's members again.
 *
 * Two departures, both so that the product ends with the same directory as ours (the bench
 * compares them) and neither in the baseline's favour beyond what is said:
 * - the users' $select adds the four properties our directory needs (userType, proxyAddresses,
 *   givenName, surname) to the peer's five;
 * - the mailbox purposes, which the peer never reads, are read exactly as ours reads them (`$batch`
 *   through the product's client and readPurposes, alongside the groups round), so they cost both
 *   the same.
 */

import {
  Client,
  type Context,
  CustomAuthenticationProvider,
  type Middleware,
  MiddlewareFactory,
} from '@microsoft/microsoft-graph-client';
import { Agent, request } from 'undici';
import { z } from 'zod';
import { GraphClient } from '../src/graph/client.js';
import { CLOUDS, graphScope, resolveEndpoints } from '../src/graph/clouds.js';
import { GroupDelta, UserDelta } from '../src/graph/delta.js';
import { GraphError, permissionDeniedHint } from '../src/graph/errors.js';
import {
  type ConnectorOptions,
  type DeltaCursor,
  type GraphConnection,
  GraphConnector,
  type ReadOnto,
  type ReadResult,
  type SourceMirror,
} from '../src/graph/index.js';
import { readPurposes } from '../src/graph/mailbox-reads.js';
import { planMailboxReads, withPurposes } from '../src/graph/mailboxes.js';
import { DEFAULT_RETRY_POLICY } from '../src/graph/retry.js';
import { type GroupItem, groupItemSchema, userItemSchema } from '../src/graph/schemas.js';
import { TokenSource } from '../src/graph/token.js';
import { Transport } from '../src/graph/transport.js';
import type { ConnectorFactory } from '../src/services/sync.js';
import type { SourceSnapshot, SourceUser } from '../src/sync/source.js';

/** The peer's user $select (UserSelectParams) plus the four properties our directory needs. */
const PEER_USER_SELECT =
  'id,mail,userPrincipalName,displayName,accountEnabled,userType,proxyAddresses,givenName,surname';

/** The last read's stats, whichever connector made it. */
export interface ReadRecord {
  mode: ReadResult['mode'] | 'peer';
  requests: number;
  retries: number;
  throttled: number;
  tokenRequests: number;
  /** The mailbox purposes: how many were needed, their requests (in `requests` too), and how long they took. */
  purposes: { needed: number; requests: number; ms: number };
}

/**
 * When the users round ended and the last batch of purposes came back, from the read's progress:
 * the purposes are read alongside the groups round, so only this span is theirs.
 */
class PurposeClock {
  private usersDone = 0;
  private lastBatch = 0;

  wrap(onProgress: ConnectorOptions['onProgress']): ConnectorOptions['onProgress'] {
    return (p) => {
      if (p.phase === 'users') this.usersDone = performance.now();
      if (p.phase === 'mailboxes') this.lastBatch = performance.now();
      onProgress?.(p);
    };
  }

  /** The span of the last read (0 when it read no purpose), and starts over. */
  take(): number {
    const ms = this.lastBatch > this.usersDone ? this.lastBatch - this.usersDone : 0;
    this.usersDone = 0;
    this.lastBatch = 0;
    return ms;
  }
}

/** Our connector, unchanged, remembering the stats of its read. */
class RecordingConnector extends GraphConnector {
  constructor(
    connection: GraphConnection,
    options: ConnectorOptions,
    private readonly record: (r: ReadRecord) => void,
    private readonly clock = new PurposeClock(),
  ) {
    super(connection, { ...options, onProgress: clock.wrap(options.onProgress) });
  }

  override async readFull(): Promise<ReadResult> {
    return this.keep(await super.readFull());
  }

  // The service reads by readChangesOnto (readChanges goes through it too).
  override async readChangesOnto(previous: { cursor: DeltaCursor; mirror: SourceMirror }): Promise<ReadOnto> {
    return this.keep(await super.readChangesOnto(previous));
  }

  private keep<R extends ReadOnto>(r: R): R {
    const purposes = { needed: r.mailboxes.needed, requests: r.mailboxes.requests, ms: this.clock.take() };
    this.record({ mode: r.mode, ...r.stats, purposes });
    return r;
  }
}

/** A Graph collection page as the peer reads it: `value`, and a nextLink or a deltaLink. */
interface PeerPage {
  value?: unknown[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

/** Counts what reaches the wire: placed just before the SDK's HTTPMessageHandler, it sees every attempt. */
class CountingHandler implements Middleware {
  attempts = 0;
  throttled = 0;
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    this.attempts++;
    await this.next!.execute(context);
    if (context.response?.status === 429) this.throttled++;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The peer's strategy (see the top of this file) against the emulator's Graph, through Microsoft's
 * Graph SDK with its default middleware chain, as the peer uses it. The mailbox purposes come
 * through the product's own transport and client, as ours reads them.
 */
class PeerBaselineConnector extends GraphConnector {
  private readonly graphUrl: string;
  private readonly agent: Agent;
  private readonly sdk: Client;
  private readonly counter = new CountingHandler();
  /** Requests the peer's code made (before the SDK's retries). */
  private calls = 0;
  private tokenRequests = 0;
  private token: { value: string; expires: number } | undefined;
  /** The product's wiring, for the mailbox purposes only. */
  private readonly transport: Transport;
  private readonly tokens: TokenSource;
  private readonly client: GraphClient;

  constructor(
    private readonly conn: GraphConnection,
    private readonly connectorOptions: ConnectorOptions,
    private readonly record: (r: ReadRecord) => void,
  ) {
    super(conn, connectorOptions);
    const endpoints = resolveEndpoints(CLOUDS[conn.cloud] ? conn.cloud : 'global', conn);
    this.graphUrl = endpoints.graphUrl;
    this.agent = new Agent({ connect: conn.caPem ? { ca: conn.caPem } : {} });
    // Client.init({ authProvider }) builds exactly this chain; the counter goes in before the last
    // handler (the fetch). The emulator is a custom host, as a national cloud would be.
    const chain = MiddlewareFactory.getDefaultMiddlewareChain(
      new CustomAuthenticationProvider((done) => {
        this.accessToken().then(
          (token) => done(null, token),
          (error: unknown) => done(error, null),
        );
      }),
    );
    chain.splice(chain.length - 1, 0, this.counter);
    this.sdk = Client.initWithMiddleware({
      middleware: chain,
      baseUrl: `${this.graphUrl}/`,
      customHosts: new Set([new URL(this.graphUrl).hostname]),
      // Node's fetch accepts an undici dispatcher; the SDK passes fetchOptions through untouched.
      fetchOptions: { dispatcher: this.agent } as never,
    });
    this.transport = new Transport({
      caPem: conn.caPem,
      concurrency: connectorOptions.concurrency ?? 4,
      retry: { ...DEFAULT_RETRY_POLICY },
      sleep: realSleep,
    });
    this.tokens = new TokenSource(
      {
        authorityHost: endpoints.authorityHost,
        graphUrl: endpoints.graphUrl,
        tenant: conn.tenant,
        clientId: conn.clientId,
        clientSecret: conn.clientSecret,
      },
      this.transport,
    );
    this.client = new GraphClient(this.transport, this.tokens, () =>
      permissionDeniedHint(this.tokens.info?.roles, this.consentUrl),
    );
  }

  override readFull(): Promise<ReadResult> {
    return this.readPeer(undefined);
  }

  override readChanges(previous: { snapshot: SourceSnapshot; cursor: DeltaCursor }): Promise<ReadResult> {
    return this.readPeer(previous);
  }

  // The peer keeps its own picture and rebuilds its import every sync: it always loads ours.
  override async readChangesOnto(previous: { cursor: DeltaCursor; mirror: SourceMirror }): Promise<ReadOnto> {
    return this.readPeer({ cursor: previous.cursor, snapshot: await previous.mirror.load() });
  }

  private async readPeer(
    previous: { snapshot: SourceSnapshot; cursor: DeltaCursor } | undefined,
  ): Promise<ReadResult> {
    const before = { attempts: this.counter.attempts, calls: this.calls, throttled: this.counter.throttled };
    const productBefore = { ...this.transport.stats };
    const tokensBefore = this.tokenRequests;
    const select = `?$select=${PEER_USER_SELECT}`;

    // getCurrentUsers: all of /users, page after page.
    const users = new UserDelta();
    let objects = 0;
    await this.collect(`/users${select}`, 'users', (items) => {
      users.apply(z.array(userItemSchema).parse(items));
      objects += items.length;
    });

    // getDeletedUsers: the stored deltaLink if there is one (a failed one means a full round), else a full round.
    let deleted = 0;
    const deltaLink = await this.deletedUsers(previous?.cursor.usersDeltaLink, select, (n) => {
      deleted += n;
    });

    // Ours reads the purposes after its users round, alongside its groups round: so does this.
    const plan = planMailboxReads(users.result(), previous?.snapshot.users);
    const purposeStart = performance.now();
    const purposesRead = readPurposes(plan.toRead, this.tokens.info?.roles, {
      client: this.client,
      graphUrl: this.graphUrl,
      retry: { ...DEFAULT_RETRY_POLICY },
      sleep: realSleep,
      batchesInFlight: Math.max(1, (this.connectorOptions.concurrency ?? 4) - 1),
      stopped: () => this.connectorOptions.signal?.aborted === true,
    }).then((reads) => ({ reads, ms: performance.now() - purposeStart }));
    // Nothing may reject unobserved while the groups are read.
    purposesRead.catch(() => undefined);

    // getGroups: all of /groups, then each group's members in turn (buildGroup).
    const groups = new GroupDelta();
    const list: GroupItem[] = [];
    await this.collect('/groups', 'groups', (items) => {
      list.push(...z.array(groupItemSchema).parse(items));
    });
    for (const group of list) {
      const members: NonNullable<GroupItem['members@delta']> = [];
      await this.collect(`/groups/${group.id}/members`, 'members', (items) => {
        for (const m of items as Array<{ '@odata.type'?: string; id?: string }>)
          if (m.id && m['@odata.type']) members.push({ '@odata.type': m['@odata.type'], id: m.id });
      });
      groups.apply([{ ...group, 'members@delta': members }]);
    }
    objects += list.length;

    const { reads, ms: purposeMs } = await purposesRead;
    const productAfter = this.transport.stats;
    const attempts = this.counter.attempts - before.attempts;
    const calls = this.calls - before.calls;
    const stats = {
      requests: attempts + productAfter.requests - productBefore.requests,
      retries: attempts - calls + productAfter.retries - productBefore.retries + reads.retries,
      throttled:
        this.counter.throttled -
        before.throttled +
        productAfter.throttled -
        productBefore.throttled +
        reads.throttled,
      pages: 0,
      tokenRequests:
        this.tokenRequests - tokensBefore + productAfter.tokenRequests - productBefore.tokenRequests,
      roundRestarts: 0,
    };
    const mailboxes = { needed: plan.toRead.length, ...reads.report };
    this.record({
      mode: 'peer',
      ...stats,
      purposes: {
        needed: plan.toRead.length,
        requests: reads.report.requests,
        ms: plan.toRead.length ? purposeMs : 0,
      },
    });
    const snapshotUsers: SourceUser[] = withPurposes(
      { users: plan.users, toRead: plan.toRead },
      reads.purposes,
    );
    return {
      snapshot: { users: snapshotUsers, groups: groups.result() },
      // Only the users deltaLink means something to the peer; the groups one is never followed.
      cursor: { usersDeltaLink: deltaLink, groupsDeltaLink: `${this.graphUrl}/v1.0/groups` },
      // Always a full read: the product plans and applies it (the peer, too, builds its whole import every sync).
      mode: 'full',
      changes: objects + deleted,
      stats,
      mailboxes,
    };
  }

  /** The users delta round of getDeletedUsers; returns the deltaLink the peer stores. */
  private async deletedUsers(stored: string | undefined, select: string, removed: (n: number) => void) {
    // A link our own connector left (another strategy's cursor) is not the peer's: start over.
    const usable = stored?.includes('/users/delta') ? stored : undefined;
    if (usable) {
      try {
        return await this.deltaRound(usable, removed);
      } catch {
        // As the peer: a failed deltaLink is forgotten and a full round read instead.
      }
    }
    return this.deltaRound(`/users/delta${select}`, removed);
  }

  private async deltaRound(start: string, removed: (n: number) => void): Promise<string> {
    let deltaLink: string | undefined;
    await this.collect(
      start,
      'users delta',
      (items) => removed((items as Array<{ '@removed'?: unknown }>).filter((u) => u['@removed']).length),
      (link) => {
        deltaLink = link;
      },
    );
    if (!deltaLink) throw new GraphError('malformed_payload', 'users delta: the last page had no deltaLink');
    return deltaLink;
  }

  /** Follows a collection's nextLinks one request after another, as the peer's `while (true)` loops do. */
  private async collect(
    start: string,
    what: string,
    onItems: (items: unknown[]) => void,
    onDeltaLink?: (link: string) => void,
  ): Promise<void> {
    let next: string | undefined = start;
    while (next) {
      const page = await this.get(next, what);
      onItems(page.value ?? []);
      next = page['@odata.nextLink'];
      if (!next && page['@odata.deltaLink']) onDeltaLink?.(page['@odata.deltaLink']);
    }
  }

  /** One `client.api(url).get()`; the SDK's errors become the product's, so the run says what failed. */
  private async get(url: string, what: string): Promise<PeerPage> {
    this.connectorOptions.signal?.throwIfAborted();
    this.calls++;
    try {
      return (await this.sdk.api(url).get()) as PeerPage;
    } catch (error) {
      throw peerError(error, what);
    }
  }

  /** The peer's authProvider: a client-credentials token, reused until 2 minutes before it expires. */
  private async accessToken(): Promise<string> {
    if (this.token && this.token.expires - Date.now() >= 120_000) return this.token.value;
    this.token = undefined;
    const endpoints = resolveEndpoints(CLOUDS[this.conn.cloud] ? this.conn.cloud : 'global', this.conn);
    this.tokenRequests++;
    const res = await request(`${endpoints.authorityHost}/${this.conn.tenant}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: this.conn.clientId,
        client_secret: this.conn.clientSecret,
        grant_type: 'client_credentials',
        scope: graphScope(this.graphUrl),
      }).toString(),
      dispatcher: this.agent,
    });
    const body = (await res.body.json()) as { access_token?: string; expires_in?: number; error?: string };
    if (res.statusCode !== 200 || !body.access_token) {
      throw new GraphError(
        'auth_error',
        `token endpoint answered ${res.statusCode}: ${body.error ?? 'no token'}`,
      );
    }
    this.token = { value: body.access_token, expires: Date.now() + (body.expires_in ?? 0) * 1000 };
    return body.access_token;
  }

  override async close(): Promise<void> {
    await this.agent.destroy();
    await this.transport.close();
    await super.close();
  }
}

/**
 * The product's error for what the SDK threw: its GraphError carries the last status after its
 * RetryHandler gave up (429/503/504), or none when the connection dropped, which it never retries.
 */
function peerError(error: unknown, what: string): GraphError {
  if (error instanceof GraphError) return error;
  const status = (error as { statusCode?: unknown }).statusCode;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const detail = `${what}: ${typeof code === 'string' && code ? `[${code}] ` : ''}${message}`;
  const options = { cause: error, ...(typeof status === 'number' && status > 0 ? { status } : {}) };
  if (status === 429) return new GraphError('throttled', `${detail} (after the SDK's 3 retries)`, options);
  if (status === 503 || status === 504)
    return new GraphError('service_unavailable', `${detail} (after the SDK's 3 retries)`, options);
  if (typeof status !== 'number' || status <= 0)
    return new GraphError('network', `${detail} (the peer does not retry a dropped connection)`, options);
  return new GraphError('graph_error', `${detail} (HTTP ${status})`, options);
}

/** Which read strategy a measured sync uses: ours (delta), or the peer's (the baseline). */
export type Strategy = 'delta' | 'peer';

/** A ConnectorFactory for `strategy` that reports each read's stats to `record`. */
export function connectorFactory(strategy: Strategy, record: (r: ReadRecord) => void): ConnectorFactory {
  return (connection, options) =>
    strategy === 'peer'
      ? new PeerBaselineConnector(connection, options, record)
      : new RecordingConnector(connection, options, record);
}
