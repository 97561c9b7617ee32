/** The directory model: what an organization's console knows about its people and groups. */
import type { MailboxKind } from './recipients.js';

export const ROLES = ['org_admin', 'end_user', 'silent_user'] as const;
/** org_admin manages the organization; end_user may log in and gets quarantine digests; silent_user neither. */
export type Role = (typeof ROLES)[number];

export const USER_STATUSES = ['active', 'inactive'] as const;
/** inactive: the mailbox exists but mail to it is rejected (e.g. disabled in Entra). */
export type UserStatus = (typeof USER_STATUSES)[number];

export const SOURCES = ['manual', 'entra'] as const;
/** Where an object came from: made by hand in the console/CLI, or owned by Entra sync. */
export type Source = (typeof SOURCES)[number];

export const GROUP_KINDS = ['distribution', 'security'] as const;
export type GroupKind = (typeof GROUP_KINDS)[number];

export interface Organization {
  id: string;
  name: string;
  /** Proven domains: the only ones that accept addresses, by API or by sync. */
  domains: string[];
  /** Domains an organization admin added that are not proven yet: they accept no address. */
  pendingDomains: string[];
  /** Seats the customer's licence covers; null: not tracked. */
  licensedSeats: number | null;
  createdAt: string;
}

export const DOMAIN_PROOFS = ['operator', 'dns', 'entra', 'before_proof'] as const;
/** How a domain came to count: an operator added it, a DNS TXT record, the Entra tenant, or before proof existed. */
export type DomainProof = (typeof DOMAIN_PROOFS)[number];

/** One domain of an organization, with what it takes to prove it while it is pending. */
export interface DomainEntry {
  domain: string;
  status: 'verified' | 'pending';
  /** null while pending. */
  provenBy: DomainProof | null;
  provenAt: string | null;
  createdAt: string;
  /** The record to publish while pending (at the domain itself); null once proven. */
  txtRecord: { name: string; type: 'TXT'; value: string } | null;
  /** The latest Verify attempt of a pending domain: when, and what it found. */
  lastCheck: { at: string; outcome: string } | null;
}

export interface User {
  id: string;
  orgId: string;
  /** Primary address, lower-cased. */
  email: string;
  /** Other addresses, lower-cased, sorted. */
  aliases: string[];
  firstName: string | null;
  lastName: string | null;
  displayName: string | null;
  role: Role;
  status: UserStatus;
  /** What Exchange says the mailbox is for; null while unknown (recipients.ts decides from it). */
  mailbox: MailboxKind | null;
  source: Source;
  /** The Entra object id this user is linked to, if any. */
  externalId: string | null;
  /** Never changed by sync while set. */
  exempt: boolean;
  createdAt: string;
  updatedAt: string;
}

/** A member of a group: a user (by id) or a nested group (by id). */
export type MemberRef = { type: 'user'; id: string } | { type: 'group'; id: string };

export interface Group {
  id: string;
  orgId: string;
  name: string;
  kind: GroupKind;
  /** A group with an address is a functional account: receives mail, has no login. */
  email: string | null;
  aliases: string[];
  source: Source;
  externalId: string | null;
  exempt: boolean;
  members: MemberRef[];
  createdAt: string;
  updatedAt: string;
}
