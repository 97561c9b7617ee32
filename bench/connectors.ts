/**
 * Connectors the benchmark plugs into the product through its ConnectorFactory: ours, recording
 * the read's stats, and the naive baseline. The baseline uses the same transport, token source,
 * client and pager as ours, so only the strategy differs: full lists every time (no delta), the
 * default page size (100), and one members request (plus its pages) per group.
 */

import { MAILBOX_KINDS, type MailboxKind } from '../src/directory/recipients.js';
import { GraphClient } from '../src/graph/client.js';
import { CLOUDS, resolveEndpoints } from '../src/graph/clouds.js';
import { GroupDelta, UserDelta } from '../src/graph/delta.js';
import { GraphError, permissionDeniedHint } from '../src/graph/errors.js';
import {
  type ConnectorOptions,
  type DeltaCursor,
  type GraphConnection,
  GraphConnector,
  type ReadResult,
} from '../src/graph/index.js';
import { planMailboxReads } from '../src/graph/mailboxes.js';
import { pages } from '../src/graph/pager.js';
import { DEFAULT_RETRY_POLICY } from '../src/graph/retry.js';
import {
  type GroupItem,
  groupItemSchema,
  memberRefSchema,
  userItemSchema,
  userPurposeSchema,
} from '../src/graph/schemas.js';
import { TokenSource } from '../src/graph/token.js';
import { Transport } from '../src/graph/transport.js';
import type { ConnectorFactory } from '../src/services/sync.js';
import type { SourceSnapshot } from '../src/sync/source.js';

/** The properties both strategies read (the connector's $select). */
const USER_SELECT =
  'id,userPrincipalName,userType,accountEnabled,mail,proxyAddresses,givenName,surname,displayName';
const GROUP_SELECT = 'id,displayName,mail,mailEnabled,securityEnabled,groupTypes,proxyAddresses';

/** The last read's stats, whichever connector made it. */
export interface ReadRecord {
  mode: ReadResult['mode'] | 'naive';
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

  override async readChanges(previous: {
    snapshot: SourceSnapshot;
    cursor: DeltaCursor;
  }): Promise<ReadResult> {
    return this.keep(await super.readChanges(previous));
  }

  private keep(r: ReadResult): ReadResult {
    const purposes = { needed: r.mailboxes.needed, requests: r.mailboxes.requests, ms: this.clock.take() };
    this.record({ mode: r.mode, ...r.stats, purposes });
    return r;
  }
}

/**
 * The naive strategy: /users, /groups and /groups/{id}/members, all of it, every time, and one
 * request per mailbox purpose (the users our connector would read, without $batch).
 */
class NaiveConnector extends GraphConnector {
  private readonly transport: Transport;
  private readonly client: GraphClient;
  private readonly graphUrl: string;
  private readonly concurrency: number;

  constructor(
    connection: GraphConnection,
    options: ConnectorOptions,
    private readonly record: (r: ReadRecord) => void,
  ) {
    super(connection, options);
    const endpoints = resolveEndpoints(CLOUDS[connection.cloud] ? connection.cloud : 'global', connection);
    this.graphUrl = endpoints.graphUrl;
    this.concurrency = options.concurrency ?? 4;
    this.transport = new Transport({
      caPem: connection.caPem,
      concurrency: this.concurrency,
      retry: { ...DEFAULT_RETRY_POLICY },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    const tokens = new TokenSource(
      {
        authorityHost: endpoints.authorityHost,
        graphUrl: endpoints.graphUrl,
        tenant: connection.tenant,
        clientId: connection.clientId,
        clientSecret: connection.clientSecret,
      },
      this.transport,
    );
    this.client = new GraphClient(this.transport, tokens, () =>
      permissionDeniedHint(undefined, this.consentUrl),
    );
  }

  override readChanges(): Promise<ReadResult> {
    return this.readFull();
  }

  override async readFull(): Promise<ReadResult> {
    const before = { ...this.transport.stats };
    const ctx = (what: string) => ({ what, graphUrl: this.graphUrl });
    const base = `${this.graphUrl}/v1.0`;
    const users = new UserDelta();
    const readUsers = async () => {
      for await (const page of pages(
        this.client,
        `${base}/users?$select=${USER_SELECT}`,
        userItemSchema,
        ctx('users'),
      ))
        users.apply(page.items);
    };
    const groups = new GroupDelta();
    const readGroups = async () => {
      const list: GroupItem[] = [];
      for await (const page of pages(
        this.client,
        `${base}/groups?$select=${GROUP_SELECT}`,
        groupItemSchema,
        ctx('groups'),
      ))
        list.push(...page.items);
      // One members request (and its pages) per group, `concurrency` groups at a time.
      let next = 0;
      const worker = async () => {
        while (next < list.length) {
          const group = list[next++]!;
          const members: GroupItem['members@delta'] = [];
          for await (const page of pages(
            this.client,
            `${base}/groups/${group.id}/members?$select=id`,
            memberRefSchema,
            ctx('members'),
          ))
            members.push(...page.items);
          groups.apply([{ ...group, 'members@delta': members }]);
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, worker));
    };
    const purposes = new Map<string, MailboxKind>();
    let wanted: string[] = [];
    let purposeStart = 0;
    const readPurposes = async () => {
      wanted = planMailboxReads(users.result(), undefined).toRead;
      purposeStart = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < wanted.length) {
          const id = wanted[next++]!;
          const purpose = await this.purpose(`${base}/users/${id}/mailboxSettings/userPurpose`);
          if (purpose) purposes.set(id, purpose);
        }
      };
      await Promise.all(Array.from({ length: this.concurrency }, worker));
    };
    await Promise.all([readUsers().then(readPurposes), readGroups()]);
    const purposeMs = wanted.length ? performance.now() - purposeStart : 0;
    const after = this.transport.stats;
    const stats = {
      requests: after.requests - before.requests,
      retries: after.retries - before.retries,
      throttled: after.throttled - before.throttled,
      pages: 0,
      tokenRequests: after.tokenRequests - before.tokenRequests,
      roundRestarts: 0,
    };
    this.record({
      mode: 'naive',
      ...stats,
      purposes: { needed: wanted.length, requests: wanted.length, ms: purposeMs },
    });
    const snapshot = {
      users: users.result().map((u) => ({ ...u, mailbox: purposes.get(u.externalId) ?? null })),
      groups: groups.result(),
    };
    return {
      snapshot,
      // The baseline never uses delta; a cursor is still stored, as the product expects one.
      cursor: { usersDeltaLink: `${base}/users`, groupsDeltaLink: `${base}/groups` },
      mode: 'full',
      changes: snapshot.users.length + snapshot.groups.length,
      stats,
      mailboxes: {
        needed: wanted.length,
        read: purposes.size,
        unknown: wanted.filter((id) => !purposes.has(id)),
        denied: false,
        requests: wanted.length,
        // The baseline only measures; what stayed unknown is in `unknown`.
        issues: [],
      },
    };
  }

  /** One user's purpose; null where Exchange has no mailbox (404) or denies it (403). */
  private async purpose(url: string): Promise<MailboxKind | null> {
    try {
      const { body } = await this.client.get(url, 'mailbox purpose');
      const value = userPurposeSchema.parse(body).value;
      return (MAILBOX_KINDS as readonly string[]).includes(value) ? (value as MailboxKind) : null;
    } catch (error) {
      if (error instanceof GraphError && (error.status === 404 || error.status === 403)) return null;
      throw error;
    }
  }

  override async close(): Promise<void> {
    await this.transport.close();
    await super.close();
  }
}

/** Which read strategy a measured sync uses. */
export type Strategy = 'delta' | 'naive';

/** A ConnectorFactory for `strategy` that reports each read's stats to `record`. */
export function connectorFactory(strategy: Strategy, record: (r: ReadRecord) => void): ConnectorFactory {
  return (connection, options) =>
    strategy === 'naive'
      ? new NaiveConnector(connection, options, record)
      : new RecordingConnector(connection, options, record);
}
