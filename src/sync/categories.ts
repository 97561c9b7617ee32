/**
 * The words of a plan's shape, shared by the server and the console: its categories and the
 * reason codes of what it skips. Pure values only (no imports), so the console's bundle can
 * take them as they are; src/sync/changes.ts re-exports them for the server.
 */

/** Reason codes of `skipped` entries (documented in docs/sync-rules.md). */
export const SKIP_REASONS = [
  /** A guest user; guests are synced only with includeGuests. */
  'guest',
  /** A user without any address (no SMTP proxy address, no mail). Groups may have no address. */
  'no_mailbox',
  /** The primary address is not a valid email address: object not synced. */
  'primary_invalid',
  /** The primary address is outside the organization's domains: object not synced. */
  'primary_foreign_domain',
  /** The primary address is in a domain added but not proven yet: object not synced. */
  'primary_pending_domain',
  /** An alias is not a valid email address: alias left out, object synced. */
  'alias_invalid',
  /** An alias is outside the organization's domains: alias left out, object synced. */
  'alias_foreign_domain',
  /** An alias is in a domain added but not proven yet: alias left out, object synced. */
  'alias_pending_domain',
  /** The primary address is claimed by another object: object not synced. */
  'address_conflict',
  /** An alias is claimed by another object: alias left out, object synced. */
  'alias_conflict',
  /** The object is exempt from sync; it would have been changed or removed. */
  'exempt',
] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** The plan categories, in the order the preview shows them. */
export const CATEGORIES = [
  'usersToAdd',
  'usersToUpdate',
  'usersToRemove',
  'groupsToAdd',
  'groupsToUpdate',
  'groupsToRemove',
] as const;
export type Category = (typeof CATEGORIES)[number];
