/**
 * Recipients as Exchange knows them. A mailbox has a purpose (Graph's
 * `mailboxSettings.userPurpose`); shared, room and equipment mailboxes are *functional accounts*:
 * they receive mail while no person signs in to them, so blocking their sign-in (Microsoft's and
 * the CIS benchmark's standard hardening) must not make them undeliverable. What the rest of the
 * service needs to know of a user — may mail be delivered, may it sign in, does it get quarantine
 * digests, is it billed — is decided here and nowhere else.
 */
import type { Role, UserStatus } from './model.js';

/** Exchange's mailbox purposes, as Graph spells them. */
export const MAILBOX_KINDS = ['user', 'linked', 'shared', 'room', 'equipment', 'others'] as const;
/** What a mailbox is for; null while unknown (not read, not permitted, or no Exchange mailbox). */
export type MailboxKind = (typeof MAILBOX_KINDS)[number];

/** Shared, room and equipment mailboxes: deliverable, no console login, no digests, not billed. */
export const FUNCTIONAL_MAILBOXES: readonly MailboxKind[] = ['shared', 'room', 'equipment'];

export function isFunctional(mailbox: MailboxKind | null): boolean {
  return mailbox !== null && FUNCTIONAL_MAILBOXES.includes(mailbox);
}

/**
 * How a user list can be narrowed by mailbox: one purpose, every functional account, every
 * person (not functional — unknown included, since a purpose is read only where sign-in is
 * blocked), or unknown.
 */
export const MAILBOX_FILTERS = [...MAILBOX_KINDS, 'functional', 'people', 'unknown'] as const;
export type MailboxFilter = (typeof MAILBOX_FILTERS)[number];

/** What an organization does with a mailbox whose sign-in is blocked and whose purpose is unknown. */
export const BLOCKED_MAILBOX_RULES = ['deliver', 'reject'] as const;
/**
 * deliver (default): keep receiving mail, as a functional account would — an unknown purpose is
 * most often a shared mailbox, and bouncing its mail is the worse mistake; reject: inactive.
 */
export type BlockedMailboxRule = (typeof BLOCKED_MAILBOX_RULES)[number];
export const DEFAULT_BLOCKED_MAILBOX_RULE: BlockedMailboxRule = 'deliver';

/** How a user's status was decided from Entra, for the preview's counts. */
export type StatusDecision =
  /** Sign-in allowed: active. */
  | 'enabled'
  /** Sign-in blocked, a shared/room/equipment mailbox: active. */
  | 'functional'
  /** Sign-in blocked, a person's mailbox: inactive. */
  | 'person'
  /** Sign-in blocked, purpose unknown: the organization's rule decided. */
  | 'rule';

/** The status of an Entra user, and what decided it. */
export function entraStatus(
  accountEnabled: boolean,
  mailbox: MailboxKind | null,
  rule: BlockedMailboxRule,
): { status: UserStatus; decision: StatusDecision } {
  if (accountEnabled) return { status: 'active', decision: 'enabled' };
  if (isFunctional(mailbox)) return { status: 'active', decision: 'functional' };
  if (mailbox !== null) return { status: 'inactive', decision: 'person' };
  return { status: rule === 'deliver' ? 'active' : 'inactive', decision: 'rule' };
}

/** What the service may rely on for one user (exposed by the API and `users list --json`). */
export interface RecipientFacts {
  functional: boolean;
  /** Mail to its addresses is accepted. */
  deliverable: boolean;
  /** May sign in to the console. */
  canSignIn: boolean;
  /** Gets quarantine digests. */
  receivesDigests: boolean;
  /** Counts against the organization's licensed seats. */
  billable: boolean;
  /** Why it may not sign in (null when it may): the sentence the console and the sign-in show. */
  signInRefusal: string | null;
}

/** The parts of a user the recipient rules read. */
export type Recipient = { status: UserStatus; role: Role; mailbox: MailboxKind | null };

/**
 * Why a user may not sign in to the console, or null when it may. End users and org admins
 * sign in; silent users, functional accounts (a mailbox no person owns) and inactive users do not.
 */
export function signInRefusal(user: Recipient): string | null {
  if (user.role === 'silent_user')
    return 'Silent users cannot sign in to the console: ask your administrator to make you an End User if you need to.';
  if (isFunctional(user.mailbox))
    return `This is a ${user.mailbox} mailbox, not a person's: it receives mail, but nobody signs in to it.`;
  if (user.status !== 'active') return 'This account is inactive: ask your administrator to reactivate it.';
  return null;
}

/**
 * End User: signs in, gets digests; Silent User: neither; an org admin signs in and gets digests
 * like an end user; a functional account is deliverable and nothing else; an inactive user is
 * nothing at all.
 */
export function recipientFacts(user: Recipient): RecipientFacts {
  const functional = isFunctional(user.mailbox);
  const deliverable = user.status === 'active';
  const refusal = signInRefusal(user);
  const signs = refusal === null;
  return {
    functional,
    deliverable,
    canSignIn: signs,
    receivesDigests: signs,
    billable: deliverable && !functional,
    signInRefusal: refusal,
  };
}
