/**
 * Mailbox purposes (Exchange's `mailboxSettings.userPurpose`, docs/graph-facts.md Addendum): which users
 * need theirs read, and what one `$batch` item's answer means. Pure: the reads are in
 * mailbox-reads.ts. A purpose is read per user (list and delta never return it), so only where
 * it decides something: a mailbox whose sign-in is blocked is delivered to when it is a shared,
 * room or equipment mailbox, and is a person's blocked mailbox otherwise.
 */
import { MAILBOX_KINDS, type MailboxKind } from '../directory/recipients.js';
import type { SourceUser } from '../sync/source.js';
import { RETRYABLE_STATUSES } from './retry.js';
import { type BatchResponseItem, graphErrorSchema, userPurposeSchema } from './schemas.js';

/** Why a needed purpose stayed unknown. */
export type MailboxIssueCause =
  /** MailboxSettings.Read is missing: the token's roles lack it, or Exchange denied a whole batch. */
  | 'permission_missing'
  /** 403 ErrorAccessDenied for some mailboxes while others were read: an application access policy limits the app. */
  | 'mailbox_access_denied'
  /** 404 MailboxNotEnabledForRESTAPI: the user has no Exchange Online mailbox (e.g. on-premises or unlicensed). */
  | 'no_exchange_mailbox'
  /** Graph answered a purpose this version does not know (e.g. unknownFutureValue). */
  | 'unrecognized_purpose'
  /** The item stayed throttled (429) or unavailable (503/504) through the retries. */
  | 'throttled'
  /** Any other answer to the item. */
  | 'item_failed'
  /** A whole $batch request failed after the transport's retries; the batches after it were not sent. */
  | 'batch_failed';

/** One cause of unknown purposes in a read. */
export interface MailboxIssue {
  cause: MailboxIssueCause;
  /** Needed users it left unknown. */
  users: number;
  /** Microsoft's text (or ours) of its first occurrence, e.g. '[ErrorAccessDenied] Access is denied.' */
  detail: string;
}

/** How the mailbox purposes of a read went (plain data, part of ReadResult). */
export interface MailboxReads {
  /** Users whose purpose had to be read: a mailbox, sign-in blocked, purpose unknown or possibly changed. */
  needed: number;
  /** Of those, purposes read (a value Graph documents). */
  read: number;
  /** External ids of the needed users whose purpose stays unknown (`mailbox: null`), ordered by id. */
  unknown: string[];
  /**
   * MailboxSettings.Read is not granted: the token's roles lack it (nothing was sent), or
   * Exchange denied a whole batch (403 ErrorAccessDenied, no purpose read; the rest was not sent).
   */
  denied: boolean;
  /** `$batch` requests sent, retries included; also counted in stats.requests. */
  requests: number;
  /** Why purposes stayed unknown, one entry per cause; their `users` add up to `unknown.length`. */
  issues: MailboxIssue[];
}

/** Exchange knows the user as a recipient: it has a `mail` or a primary (`SMTP:`) proxy address. */
export function hasMailbox(user: Pick<SourceUser, 'mail' | 'proxyAddresses'>): boolean {
  if (user.mail?.trim()) return true;
  return user.proxyAddresses.some((entry) => entry.startsWith('SMTP:') && entry.length > 5);
}

/** The addresses that name the mailbox (mail and the primary), compared without case as Exchange does. */
function mailboxAddresses(user: Pick<SourceUser, 'mail' | 'proxyAddresses'>): string {
  const primaries = user.proxyAddresses
    .filter((entry) => entry.startsWith('SMTP:'))
    .map((entry) => entry.slice(5).trim().toLowerCase())
    .sort();
  return [(user.mail ?? '').trim().toLowerCase(), ...primaries].join('\n');
}

/** The users with the purposes they keep, and which to read now. */
export interface MailboxPlan {
  /** Every user; those to read carry `mailbox: null` until read, the others the purpose they keep. */
  users: SourceUser[];
  /** External ids whose purpose must be read now, in the users' order. */
  toRead: string[];
}

/**
 * Which purposes to read after a read's users round. A user keeps the purpose of the previous
 * snapshot (when there is one) unless what decides it may have changed; a purpose is read only
 * for a user with a mailbox whose sign-in is blocked, and only when it is unknown or the user's
 * sign-in status, mail or primary address changed since the previous snapshot (a shared mailbox
 * converted to a person's, or a person's mailbox blocked, usually comes with such a change).
 * Users with sign-in allowed are never read: their purpose decides nothing.
 */
export function planMailboxReads(
  users: readonly SourceUser[],
  previous: readonly SourceUser[] | undefined,
): MailboxPlan {
  const before = new Map((previous ?? []).map((u) => [u.externalId, u]));
  const planned: SourceUser[] = [];
  const toRead: string[] = [];
  for (const user of users) {
    const prior = before.get(user.externalId);
    // A delta round carries the purpose over already; a full read (after an expired delta link) does not.
    const kept = user.mailbox ?? prior?.mailbox ?? null;
    const changed =
      prior !== undefined &&
      (prior.accountEnabled !== user.accountEnabled || mailboxAddresses(prior) !== mailboxAddresses(user));
    const read = purposeDecides(user) && (kept === null || changed);
    if (read) toRead.push(user.externalId);
    const mailbox = read ? null : kept;
    planned.push(mailbox === user.mailbox ? user : { ...user, mailbox });
  }
  return { users: planned, toRead };
}

/** The purpose decides something for this user: a mailbox whose sign-in is blocked. */
function purposeDecides(user: SourceUser): boolean {
  return !user.accountEnabled && hasMailbox(user);
}

/** A user whose purpose decides something and is unknown: the next read tries it again. */
export function purposeUnread(user: SourceUser): boolean {
  return user.mailbox === null && purposeDecides(user);
}

/** The users of a plan with the purposes read filled in (those not read stay null). */
export function withPurposes(plan: MailboxPlan, purposes: ReadonlyMap<string, MailboxKind>): SourceUser[] {
  if (purposes.size === 0) return plan.users;
  return plan.users.map((user) => {
    const mailbox = purposes.get(user.externalId);
    return mailbox === undefined ? user : { ...user, mailbox };
  });
}

/** Users whose purpose differs from the previous snapshot's (new users with a known purpose included). */
export function purposeChanges(users: readonly SourceUser[], previous: readonly SourceUser[]): number {
  const before = new Map(previous.map((u) => [u.externalId, u.mailbox]));
  return users.filter((u) => (before.get(u.externalId) ?? null) !== u.mailbox).length;
}

/** An item that gave no purpose and is not worth another try. */
export interface PurposeFailure {
  kind: 'unrecognized' | 'access_denied' | 'no_mailbox' | 'failed';
  /** Microsoft's error text, or what was wrong with the answer. */
  detail: string;
}

/** What one `$batch` item answered about a user's purpose. */
export type PurposeAnswer =
  | { kind: 'purpose'; purpose: MailboxKind }
  /** 429, 503 or 504: worth another try after `retryAfter` (the inner header, when given). */
  | { kind: 'retry'; status: number; retryAfter: string | undefined }
  | PurposeFailure;

const KINDS: ReadonlySet<string> = new Set(MAILBOX_KINDS);

/** Reads one `$batch` item answering `GET /users/{id}/mailboxSettings/userPurpose`. */
export function purposeAnswer(item: BatchResponseItem): PurposeAnswer {
  const headers = Object.fromEntries(
    Object.entries(item.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (item.status === 200) {
    const body = userPurposeSchema.safeParse(item.body);
    if (!body.success) return { kind: 'failed', detail: 'HTTP 200 without a userPurpose value' };
    const value = body.data.value;
    if (KINDS.has(value)) return { kind: 'purpose', purpose: value as MailboxKind };
    return { kind: 'unrecognized', detail: `unrecognized userPurpose '${value.slice(0, 40)}'` };
  }
  if (RETRYABLE_STATUSES.has(item.status)) {
    return { kind: 'retry', status: item.status, retryAfter: headers['retry-after'] };
  }
  const error = graphErrorSchema.safeParse(item.body);
  const code = error.success ? error.data.error.code : undefined;
  const detail = error.success
    ? `[${code}] ${error.data.error.message ?? ''}`.trim()
    : `HTTP ${item.status} without a Graph error body`;
  // Exchange's codes, compared without case as Graph's own are (client.ts).
  const lower = code?.toLowerCase();
  if (item.status === 403 && lower === 'erroraccessdenied') return { kind: 'access_denied', detail };
  if (item.status === 404 && lower === 'mailboxnotenabledforrestapi') return { kind: 'no_mailbox', detail };
  return { kind: 'failed', detail: `${detail} (HTTP ${item.status})` };
}

/**
 * Whether one round of a batch says the permission is missing: Exchange denied access and read
 * no purpose. Denials next to purposes read are single mailboxes an application access policy
 * keeps the app out of (learn.microsoft.com/graph/auth-limit-mailbox-access), not a missing grant.
 */
export function deniesPermission(answers: readonly PurposeAnswer[]): boolean {
  const read = answers.some((a) => a.kind === 'purpose' || a.kind === 'unrecognized');
  return !read && answers.some((a) => a.kind === 'access_denied');
}
