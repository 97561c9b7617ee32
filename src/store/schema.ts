/**
 * Table types for Kysely. Timestamps are ISO-8601 strings and booleans JS booleans on both
 * dialects (see dialect.ts for how SQLite is made to agree). Every organization-owned table
 * starts with org_id.
 */

import type { Generated } from 'kysely';

export interface OrganizationsTable {
  id: string;
  name: string;
  /** Seats the licence covers; null: not tracked. */
  licensed_seats: number | null;
  created_at: string;
}

/** Proven domains: the ones that accept addresses; one organization each. */
export interface DomainsTable {
  org_id: string;
  domain: string;
  created_at: string;
  /** DomainProof: 'operator' | 'dns' | 'entra' | 'before_proof' (added before proof was asked for). */
  proven_by: Generated<string>;
  proven_at: string | null;
}

/** Domains an organization admin added and has not proven yet; several organizations may claim one. */
export interface DomainClaimsTable {
  org_id: string;
  domain: string;
  /** The TXT record's value is `entrasync-verification=<token>`. */
  token: string;
  created_at: string;
  checked_at: string | null;
  check_outcome: string | null;
}

export interface UsersTable {
  org_id: string;
  id: string;
  /** Primary address; also present in `addresses` with is_primary, which guards uniqueness. */
  email: string;
  first_name: string | null;
  last_name: string | null;
  display_name: string | null;
  role: string;
  status: string;
  /** mailboxSettings.userPurpose; null while unknown. */
  mailbox: string | null;
  source: string;
  external_id: string | null;
  exempt: boolean;
  /** argon2id hash; null until the user sets a password (silent users never do). */
  password_hash: string | null;
  created_at: string;
  updated_at: string;
}

export interface GroupsTable {
  org_id: string;
  id: string;
  name: string;
  kind: string;
  email: string | null;
  source: string;
  external_id: string | null;
  exempt: boolean;
  created_at: string;
  updated_at: string;
}

/**
 * Every address in the service — user or group, primary or alias — one row each, so a single
 * unique index makes addresses unique service-wide.
 */
export interface AddressesTable {
  org_id: string;
  address: string;
  owner_type: 'user' | 'group';
  owner_id: string;
  is_primary: boolean;
}

export interface GroupMembersTable {
  org_id: string;
  group_id: string;
  member_type: 'user' | 'group';
  member_id: string;
}

/**
 * An address an object of the source mirror claims (0012_source_claims), keyed as claimKeys
 * (src/sync/source.ts) keys it: who else claims it is what focused planning asks of a change.
 */
export interface SourceClaimsTable {
  org_id: string;
  claim_key: string;
  object_type: 'user' | 'group';
  external_id: string;
}

export interface AuditLogTable {
  /** Null for service-wide events (an operator creating an organization is logged under it). */
  org_id: string | null;
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target_type: string;
  target_id: string | null;
  detail: string | null;
}

export interface OperatorsTable {
  id: string;
  email: string;
  password_hash: string | null;
  /** sha-256 of the one-time setup token printed on first start; cleared once used. */
  setup_token_hash: string | null;
  setup_token_expires_at: string | null;
  created_at: string;
}

export interface SessionsTable {
  /** sha-256 of the cookie value: a database leak does not hand out sessions. */
  id_hash: string;
  principal_type: 'operator' | 'user';
  principal_id: string;
  org_id: string | null;
  csrf_token: string;
  created_at: string;
  expires_at: string;
}

export interface ApiTokensTable {
  id: string;
  /** Null: an operator token (all organizations). */
  org_id: string | null;
  name: string;
  token_hash: string;
  /** The creator's address (or `token:name`, `cli`), for people to read. */
  created_by: string;
  created_at: string;
  last_used_at: string | null;
  /** Set for every token (the 0005 migration gave older tokens 90 days). */
  expires_at: string;
  /** The account the token dies with; null for tokens made with the CLI. */
  creator_type: 'user' | 'operator' | null;
  creator_id: string | null;
  /** Whether a request made with this token may create tokens. */
  can_create_tokens: boolean;
}

export interface EntraSettingsTable {
  org_id: string;
  tenant: string;
  client_id: string;
  secret_ciphertext: string | null;
  secret_last4: string | null;
  /** A date (YYYY-MM-DD) the admin entered: when the client secret expires in Entra. */
  secret_expires_at: string | null;
  default_role: string;
  /** JSON of WhatSwitches. */
  what: string;
  /** JSON of HowSwitches. */
  how: string;
  /** null: manual syncs only. */
  frequency_hours: number | null;
  cloud: string;
  authority_host: string | null;
  graph_url: string | null;
  ca_pem: string | null;
  /** The custom endpoints were set by an operator, so the tenant they reach may prove domains. */
  endpoints_by_operator: boolean;
  /** Sync guest users (userType Guest) too. */
  include_guests: boolean;
  /** What a blocked mailbox of unknown purpose becomes: 'deliver' | 'reject'. */
  blocked_mailboxes: string;
  updated_at: string;
}

/** The delta cursor and the basis of the last apply; the mirror itself is in source_* (0010). */
export interface SyncStateTable {
  org_id: string;
  cursor: string;
  basis: string | null;
  updated_at: string;
}

/** The source mirror (0010_source_tables): one row per Entra object, its record as JSON. */
export interface SourceObjectsTable {
  org_id: string;
  external_id: string;
  record: string;
}

/** A direct membership in the source mirror, by Entra ids. */
export interface SourceMembersTable {
  org_id: string;
  group_id: string;
  member_type: 'user' | 'group';
  member_id: string;
}

export interface SyncPlansTable {
  org_id: string;
  id: string;
  created_at: string;
  expires_at: string;
  created_by: string;
  body: Buffer;
  snapshot: Buffer | null;
  cursor: string;
  used_by_run: string | null;
}

export interface SyncRunsTable {
  org_id: string;
  id: string;
  trigger: string;
  actor: string;
  plan_id: string | null;
  status: string;
  started_at: string;
  finished_at: string | null;
  summary: string;
  detail: Buffer | null;
}

/** Searches (manual-sync previews run as jobs) and their progress (0008_sync_searches). */
export interface SyncSearchesTable {
  org_id: string;
  id: string;
  state: string;
  phase: string | null;
  cancel_requested_at: string | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
  started_by: string;
  /** JSON of the pages and objects read per collection. */
  progress: string;
  plan_id: string | null;
  /** JSON of the API's error body, for a failed search. */
  error: string | null;
}

export interface SyncLeasesTable {
  org_id: string;
  holder: string;
  purpose: string;
  expires_at: string;
}

export interface SyncAutomationTable {
  org_id: string;
  safeguard_percent: number;
  safeguard_min_users: number;
  webhook_url: string | null;
  webhook_secret_ciphertext: string | null;
  updated_at: string;
}

export interface SyncHealthTable {
  org_id: string;
  consecutive_failures: number;
  last_error: string | null;
  last_failure_at: string | null;
  last_success_at: string | null;
  updated_at: string;
}

export interface NotificationsTable {
  org_id: string;
  id: string;
  kind: string;
  dedupe_key: string;
  title: string;
  message: string;
  run_id: string | null;
  created_at: string;
  read_at: string | null;
  delivery: string | null;
}

/** Failed sign-ins per address (0006_signin_limits). */
export interface SigninLimitsTable {
  address: string;
  failures: number;
  locked_until: string | null;
  updated_at: string;
}

export interface Database {
  sync_automation: SyncAutomationTable;
  sync_health: SyncHealthTable;
  notifications: NotificationsTable;
  entra_settings: EntraSettingsTable;
  sync_state: SyncStateTable;
  source_users: SourceObjectsTable;
  source_groups: SourceObjectsTable;
  source_members: SourceMembersTable;
  source_claims: SourceClaimsTable;
  sync_plans: SyncPlansTable;
  sync_runs: SyncRunsTable;
  sync_searches: SyncSearchesTable;
  sync_leases: SyncLeasesTable;
  organizations: OrganizationsTable;
  domains: DomainsTable;
  domain_claims: DomainClaimsTable;
  users: UsersTable;
  groups: GroupsTable;
  addresses: AddressesTable;
  group_members: GroupMembersTable;
  audit_log: AuditLogTable;
  operators: OperatorsTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  signin_limits: SigninLimitsTable;
}
