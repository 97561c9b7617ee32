/**
 * The source snapshot: what the Graph connector read from an Entra tenant, mapped to plain
 * records but not yet judged by any sync rule (the planner decides scope, addresses, kinds).
 * This is the contract between src/graph (producer) and src/sync (consumer).
 */

import type { MailboxKind } from '../directory/recipients.js';

/** An Entra user as read from Graph (the properties the rules need, and nothing else). */
export interface SourceUser {
  /** Entra object id (GUID): the identity used for linking, never the address. */
  externalId: string;
  userPrincipalName: string;
  /** 'Member' | 'Guest' (null when Graph did not say). */
  userType: string | null;
  accountEnabled: boolean;
  mail: string | null;
  /** Raw proxyAddresses entries, e.g. 'SMTP:a@x.com', 'smtp:b@x.com', 'X500:/o=…'. */
  proxyAddresses: string[];
  givenName: string | null;
  surname: string | null;
  displayName: string | null;
  /**
   * Exchange's mailbox purpose (mailboxSettings.userPurpose), read only where it decides
   * something: for users with a mailbox whose sign-in is blocked. null: unknown — not needed,
   * not permitted (no MailboxSettings.Read), or not read yet.
   */
  mailbox: MailboxKind | null;
}

/** An Entra group with its direct members (ids of users and groups; other member types dropped). */
export interface SourceGroup {
  externalId: string;
  displayName: string;
  mail: string | null;
  mailEnabled: boolean;
  securityEnabled: boolean;
  /** e.g. ['Unified'] for Microsoft 365 groups, ['DynamicMembership'] for dynamic ones. */
  groupTypes: string[];
  proxyAddresses: string[];
  /** Entra ids of direct member users. */
  memberUserIds: string[];
  /** Entra ids of direct member groups (nested groups). */
  memberGroupIds: string[];
}

/** A complete picture of the tenant's users and groups at one moment. */
export interface SourceSnapshot {
  users: SourceUser[];
  groups: SourceGroup[];
}
