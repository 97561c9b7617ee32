/**
 * Reading mailbox purposes through `$batch` (docs/graph-facts.md §4): 20 items a request, a few requests
 * in flight (the transport's per-tenant limit applies on top), throttled items retried after the
 * longest Retry-After, and no failure of any item or batch ever failing the read — a purpose that
 * could not be read stays unknown, and why is recorded. The decisions are in mailboxes.ts.
 */
import type { MailboxKind } from '../directory/recipients.js';
import type { GraphClient } from './client.js';
import { GraphError, grantsOptional } from './errors.js';
import {
  deniesPermission,
  type MailboxIssue,
  type MailboxIssueCause,
  type MailboxReads,
  type PurposeAnswer,
  type PurposeFailure,
  purposeAnswer,
} from './mailboxes.js';
import { parseRetryAfter, type RetryPolicy, retryDelay } from './retry.js';
import { batchResponseSchema } from './schemas.js';

/** Graph's limit of requests in one `$batch`. */
export const BATCH_LIMIT = 20;

/** What the reader needs of its connector. */
export interface PurposeReaderOptions {
  client: GraphClient;
  graphUrl: string;
  /** Bounds the retries of throttled items (the connection's policy). */
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  /** `$batch` requests in flight at once. */
  batchesInFlight: number;
  /** After every batch: purposes read so far. */
  onProgress?: (read: number) => void;
  /** True once the rest of the read failed: no further batch is sent. */
  stopped: () => boolean;
}

/** The purposes read, the report, and the item-level throttling the transport did not see. */
export interface PurposeReads {
  purposes: Map<string, MailboxKind>;
  report: Omit<MailboxReads, 'needed'>;
  /** 429 answers to batch items. */
  throttled: number;
  /** Batches re-sent for throttled items. */
  retries: number;
}

/** Why the reader stopped sending batches. */
interface Halt {
  cause: Extract<MailboxIssueCause, 'permission_missing' | 'batch_failed'>;
  detail: string;
}

/** Reads the purposes of `ids`, unless the token's roles (when readable) show no MailboxSettings permission. */
export function readPurposes(
  ids: readonly string[],
  roles: readonly string[] | undefined,
  options: PurposeReaderOptions,
): Promise<PurposeReads> {
  return new PurposeReader(options).run(ids, roles);
}

class PurposeReader {
  private readonly purposes = new Map<string, MailboxKind>();
  private readonly issues = new Map<MailboxIssueCause, MailboxIssue>();
  private readonly tally = { requests: 0 };
  private halt: Halt | undefined;
  private throttled = 0;
  private retries = 0;

  constructor(private readonly options: PurposeReaderOptions) {}

  async run(ids: readonly string[], roles: readonly string[] | undefined): Promise<PurposeReads> {
    // The claim is a best-effort diagnostic (docs/graph-facts.md §6.3); without a readable one, Exchange's answer decides.
    if (roles !== undefined && !grantsOptional(roles, 'MailboxSettings.Read')) {
      this.halt = {
        cause: 'permission_missing',
        detail: "the token's roles lack MailboxSettings.Read, so no purpose was read",
      };
    }
    // Rounds: the items to send again from every batch of a round are sent together in the next,
    // twenty a request, after the longest Retry-After asked (json-batching: "re-batch after the
    // longest") — a 429 has already paced the worker that got it, so it is not waited for twice.
    let pending: readonly string[] = ids;
    for (let round = 0; pending.length > 0 && !this.options.stopped(); round++) {
      if (this.halt) {
        this.note(this.halt.cause, pending, this.halt.detail);
        break;
      }
      const { again, longest, paced } = await this.round(pending);
      if (again.length === 0) break;
      const wait = retryDelay(round, longest, this.options.retry, this.options.random);
      if (wait === undefined) {
        const why =
          round >= this.options.retry.maxRetries
            ? `still throttled or unavailable after ${round} retries`
            : `Retry-After ${longest} s is longer than this read waits`;
        this.note('throttled', again, why);
        break;
      }
      this.retries += Math.ceil(again.length / BATCH_LIMIT);
      // Throttled items were waited for by the worker that sent them; others wait here, once.
      if (!paced) await this.options.sleep(wait);
      pending = again;
    }
    return {
      purposes: this.purposes,
      report: {
        read: this.purposes.size,
        unknown: ids.filter((id) => !this.purposes.has(id)),
        denied: this.halt?.cause === 'permission_missing',
        requests: this.tally.requests,
        issues: [...this.issues.values()],
      },
      throttled: this.throttled,
      retries: this.retries,
    };
  }

  /**
   * Sends `ids` in batches of twenty, a few in flight; returns the items to send again, the
   * longest Retry-After they asked, and whether they were all 429s already waited for. Once the
   * read halts, what is left is recorded under its cause.
   */
  private async round(
    ids: readonly string[],
  ): Promise<{ again: string[]; longest: string | undefined; paced: boolean }> {
    const batches: string[][] = [];
    for (let i = 0; i < ids.length; i += BATCH_LIMIT) batches.push(ids.slice(i, i + BATCH_LIMIT));
    const again: string[] = [];
    let longest: string | undefined;
    let longestMs = -1;
    // True while every item to send again was a 429 its worker has already waited for.
    let paced = true;
    let next = 0;
    const worker = async () => {
      while (next < batches.length && !this.halt && !this.options.stopped()) {
        // A 429 says "slow down": this worker waits what its batch was asked before sending the
        // next one, so a tenant at its budget is paced instead of flooded; the throttled items
        // themselves wait for the next round, with every other batch's.
        let pace = 0;
        for (const retry of await this.batch(batches[next++]!)) {
          again.push(retry.id);
          const asked = parseRetryAfter(retry.retryAfter) ?? -1;
          if (asked > longestMs) [longest, longestMs] = [retry.retryAfter, asked];
          if (retry.status === 429) pace = Math.max(pace, asked);
          else paced = false;
        }
        this.options.onProgress?.(this.purposes.size);
        if (pace > this.options.retry.maxRetryAfterMs) paced = false;
        else if (pace > 0) await this.options.sleep(pace);
      }
    };
    const workers = Math.max(1, Math.min(this.options.batchesInFlight, batches.length));
    await Promise.all(Array.from({ length: workers }, worker));
    const halt = this.halt;
    if (!halt) return { again, longest, paced };
    for (const batch of batches.slice(next)) this.note(halt.cause, batch, halt.detail);
    this.note(halt.cause, again, halt.detail);
    return { again: [], longest, paced };
  }

  /** One batch: purposes kept, failures recorded; returns the items to send again (throttled, unavailable). */
  private async batch(
    ids: readonly string[],
  ): Promise<Array<{ id: string; status: number; retryAfter: string | undefined }>> {
    let answers: Map<string, PurposeAnswer>;
    try {
      answers = await this.send(ids);
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      this.halt = { cause: 'batch_failed', detail: `${error.code}: ${error.detail}` };
      this.note('batch_failed', ids, this.halt.detail);
      return [];
    }
    const all = [...answers.values()];
    if (deniesPermission(all)) {
      const denied = all.find((a): a is PurposeFailure => a.kind === 'access_denied');
      this.halt = { cause: 'permission_missing', detail: denied?.detail ?? 'access denied' };
      this.note('permission_missing', ids, this.halt.detail);
      return [];
    }
    const again: Array<{ id: string; status: number; retryAfter: string | undefined }> = [];
    for (const id of ids) {
      const answer = answers.get(id);
      if (answer === undefined) {
        this.note('item_failed', [id], 'the $batch answer has no response for this item');
      } else if (answer.kind === 'purpose') {
        this.purposes.set(id, answer.purpose);
      } else if (answer.kind === 'retry') {
        if (answer.status === 429) this.throttled++;
        again.push({ id, status: answer.status, retryAfter: answer.retryAfter });
      } else {
        this.note(CAUSE[answer.kind], [id], answer.detail);
      }
    }
    return again;
  }

  /** POSTs one `$batch` and returns each user's answer (users the answer leaves out are missing). */
  private async send(ids: readonly string[]): Promise<Map<string, PurposeAnswer>> {
    const what = 'mailbox purposes $batch';
    const requests = ids.map((id, i) => ({
      id: String(i + 1),
      method: 'GET',
      url: `/users/${encodeURIComponent(id)}/mailboxSettings/userPurpose`,
    }));
    const { body, requestId } = await this.options.client.post(`${this.options.graphUrl}/v1.0/$batch`, what, {
      body: { requests },
      tally: this.tally,
    });
    const parsed = batchResponseSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new GraphError(
        'malformed_payload',
        `${what} (request-id ${requestId}): ${issue?.path.join('.') ?? ''} ${issue?.message ?? 'invalid'}`.trim(),
      );
    }
    const answers = new Map<string, PurposeAnswer>();
    for (const item of parsed.data.responses) {
      const id = ids[Number(item.id) - 1];
      if (id !== undefined && String(Number(item.id)) === item.id) answers.set(id, purposeAnswer(item));
    }
    return answers;
  }

  /** Records users left unknown, under one cause (its first detail kept). */
  private note(cause: MailboxIssueCause, ids: readonly string[], detail: string): void {
    if (ids.length === 0) return;
    const issue = this.issues.get(cause);
    if (issue) issue.users += ids.length;
    else this.issues.set(cause, { cause, users: ids.length, detail });
  }
}

/** The issue each kind of item failure is recorded under. */
const CAUSE = {
  unrecognized: 'unrecognized_purpose',
  access_denied: 'mailbox_access_denied',
  no_mailbox: 'no_exchange_mailbox',
  failed: 'item_failed',
} as const satisfies Record<PurposeFailure['kind'], MailboxIssueCause>;
