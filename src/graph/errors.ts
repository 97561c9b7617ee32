/**
 * The connector's catalog of typed errors. Each code has one sentence an Entra admin can act on;
 * docs/errors.md (section "Entra connection errors") lists the same codes, kept in step by a test.
 * `detail` carries Microsoft's own text (never the secret), `hint` the sentence for this case.
 */

/** Every error code the connector raises, with its documented sentence and whether a retry may help. */
export const GRAPH_ERRORS = {
  invalid_config: {
    retryable: false,
    sentence:
      'The Entra settings are incomplete or invalid (tenant, client ID, secret or an endpoint URL): correct the field named in the message.',
  },
  malformed_tenant: {
    retryable: false,
    sentence:
      "The tenant is neither a valid domain name nor a tenant ID: enter the tenant's primary domain (e.g. contoso.onmicrosoft.com) or its Tenant ID (a GUID) from the Entra admin center's Overview page.",
  },
  unknown_tenant: {
    retryable: false,
    sentence:
      "Microsoft does not know this tenant: check the Primary domain / tenant ID field against the Entra admin center's Overview page, and that the Cloud setting matches the tenant's cloud.",
  },
  unknown_client: {
    retryable: false,
    sentence:
      "No application with this client ID exists in the tenant: check the Client ID field — it is the Application (client) ID on the app registration's Overview page, in the same tenant (not the Object ID or a secret ID).",
  },
  no_service_principal: {
    retryable: false,
    sentence:
      'The app registration has no service principal (enterprise application) in this tenant: an administrator must grant admin consent (App registrations → the app → API permissions → Grant admin consent), which creates it.',
  },
  invalid_secret: {
    retryable: false,
    sentence:
      "The client secret is wrong: in the Entra admin center open App registrations → the app → Certificates & secrets → New client secret, and paste the secret's Value (shown only once), not its Secret ID.",
  },
  expired_secret: {
    retryable: false,
    sentence:
      'The client secret has expired: create a new one in the Entra admin center (App registrations → the app → Certificates & secrets → New client secret), paste its Value (not the Secret ID) here and note its expiry date.',
  },
  wrong_cloud: {
    retryable: false,
    sentence:
      "The tenant lives in another Microsoft cloud than the one selected: set Cloud to the tenant's cloud (global, usgov, usgov-dod or china).",
  },
  auth_error: {
    retryable: false,
    sentence:
      "Microsoft's sign-in service refused to issue a token; Microsoft's message (AADSTS code) says why — check the tenant, client ID and secret fields.",
  },
  token_rejected: {
    retryable: false,
    sentence:
      "Microsoft Graph rejected the access token: check that the Cloud setting matches the tenant's cloud, then test the connection again.",
  },
  permission_denied: {
    retryable: false,
    sentence:
      'The app lacks Microsoft Graph application permissions: add User.Read.All and GroupMember.Read.All (or Directory.Read.All) under App registrations → the app → API permissions, then have an administrator grant admin consent (the message gives the consent link).',
  },
  throttled: {
    retryable: true,
    sentence:
      'Microsoft throttled our requests (HTTP 429) longer than our retries allow: the next sync tries again; if it persists, other applications are using up the tenant’s Microsoft Graph quota.',
  },
  service_unavailable: {
    retryable: true,
    sentence:
      "Microsoft's service stayed unavailable (HTTP 503/504) through several retries: try again later; the next scheduled sync retries by itself.",
  },
  network: {
    retryable: true,
    sentence:
      "Microsoft could not be reached (connections failed or dropped repeatedly): check this server's outbound HTTPS access (firewall, proxy, DNS) to the cloud's login and Graph hosts.",
  },
  tls: {
    retryable: false,
    sentence:
      'The HTTPS connection to Microsoft could not be verified: usually a proxy that intercepts HTTPS, a wrong system clock, or (for custom endpoints) a missing CA certificate.',
  },
  malformed_payload: {
    retryable: false,
    sentence:
      'Microsoft returned a response we could not understand, so the read was stopped and nothing was changed: report the message (it names the request) to support.',
  },
  delta_expired: {
    retryable: false,
    sentence:
      'The saved change-tracking link expired (Microsoft keeps it 7 days) or was reset by Microsoft: a full read is done instead, automatically.',
  },
  page_expired: {
    retryable: true,
    sentence:
      'Microsoft kept refusing the paging links of a read as expired (Directory_ExpiredPageToken), even after that list was started over: the next sync tries again; if it persists, report the message to support.',
  },
  graph_error: {
    retryable: false,
    sentence: "Microsoft Graph returned an unexpected error; Microsoft's message says why.",
  },
} as const satisfies Record<string, { retryable: boolean; sentence: string }>;

/** A stable connector error code. */
export type GraphErrorCode = keyof typeof GRAPH_ERRORS;

/** The codes, for docs checks and exhaustive switches. */
export const GRAPH_ERROR_CODES = Object.keys(GRAPH_ERRORS) as GraphErrorCode[];

/** An error from talking to Entra or Graph: a stable code, Microsoft's text, and what to do. */
export class GraphError extends Error {
  readonly code: GraphErrorCode;
  /** Microsoft's text, e.g. '[Authorization_RequestDenied] Insufficient privileges to complete the operation.' */
  readonly detail: string;
  /** The sentence an admin can act on (the catalog's, or a more specific one for this case). */
  readonly hint: string;
  /** HTTP status of the failing response, when there was one. */
  readonly status: number | undefined;
  /** Graph's `request-id` of the failing response, for Microsoft support. */
  readonly requestId: string | undefined;

  constructor(
    code: GraphErrorCode,
    detail: string,
    options: { hint?: string; status?: number; requestId?: string; cause?: unknown } = {},
  ) {
    const hint = options.hint ?? GRAPH_ERRORS[code].sentence;
    super(`${hint} (${detail})`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GraphError';
    this.code = code;
    this.detail = detail;
    this.hint = hint;
    this.status = options.status;
    this.requestId = options.requestId;
  }

  /** True when trying again later may succeed (throttling, outages, network). */
  get retryable(): boolean {
    return GRAPH_ERRORS[this.code].retryable;
  }
}

/** Replaces every occurrence of a secret in a text, so no error or log can carry it. */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('***');
}

/** Application permissions (app role values) that grant reading users, and groups with members. */
const GRANTS_USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const GRANTS_GROUPS = [
  'GroupMember.Read.All',
  'GroupMember.ReadWrite.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
];

/** The least-privileged permissions the sync needs that the granted `roles` do not cover. */
export function missingPermissions(roles: readonly string[]): string[] {
  const missing: string[] = [];
  if (!roles.some((r) => GRANTS_USERS.includes(r))) missing.push('User.Read.All');
  if (!roles.some((r) => GRANTS_GROUPS.includes(r))) missing.push('GroupMember.Read.All');
  return missing;
}

/**
 * The optional application permissions, each with the permissions that grant what it does (itself
 * and broader ones). A sync without them works: MailboxSettings.Read tells shared, room and
 * equipment mailboxes (sign-in blocked, still receiving mail) from a person's blocked mailbox, else
 * the organization's rule decides; Domain.Read.All reads the tenant's domains (GET /domains), whose
 * verified ones prove the organization's domains, else a DNS TXT record must.
 */
const OPTIONAL_GRANTS = {
  'MailboxSettings.Read': ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'],
  'Domain.Read.All': [
    'Domain.Read.All',
    'Domain.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
} as const satisfies Record<string, readonly string[]>;

/** An optional application permission, by its least-privileged name. */
export type OptionalPermission = keyof typeof OPTIONAL_GRANTS;

/** True when the granted `roles` cover the optional `permission` (itself or a broader one). */
export function grantsOptional(roles: readonly string[], permission: OptionalPermission): boolean {
  const grants: readonly string[] = OPTIONAL_GRANTS[permission];
  return roles.some((r) => grants.includes(r));
}

/** What MailboxSettings.Read is for, in the words diagnose() and the docs use. */
export const MAILBOX_PERMISSION_PURPOSE =
  "to tell shared, room and equipment mailboxes with sign-in blocked — which keep receiving mail — from a person's blocked mailbox; without it the organization's rule 'Mailboxes with sign-in blocked' decides";

/** What Domain.Read.All is for, in the words diagnose() and the docs use. */
export const DOMAIN_PERMISSION_PURPOSE =
  "to prove the organization's domains by the tenant's verified domains (otherwise by a DNS TXT record)";

const ADD_PERMISSION_PATH =
  'App registrations → the app → API permissions → Add a permission → Microsoft Graph → Application permissions';

/** How to grant an optional permission, with the consent link. */
export function optionalPermissionHint(permission: OptionalPermission, consentUrl: string): string {
  return (
    `Optional: an administrator can add it under ${ADD_PERMISSION_PATH} → ${permission}, then grant admin consent` +
    ` (Grant admin consent for the tenant, or open ${consentUrl}).`
  );
}

/**
 * The hint for a 403 to a read that needs an optional permission (GET /domains: Domain.Read.All):
 * that it is missing and how to grant it, or — when the token's `roles` already cover it — that
 * consent may still be propagating.
 */
export function optionalPermissionDeniedHint(
  permission: OptionalPermission,
  roles: readonly string[] | undefined,
  consentUrl: string,
): string {
  if (roles !== undefined && grantsOptional(roles, permission)) {
    return `The token already carries ${roles.join(', ')}, which cover ${permission}, yet Microsoft Graph denied access: consent granted in the last minutes may still be propagating — try again shortly; otherwise check that admin consent was granted for this tenant (${consentUrl}).`;
  }
  const granted = roles === undefined ? '' : ` (granted: ${roles.length ? roles.join(', ') : 'none'})`;
  return (
    `The app is missing the Microsoft Graph application permission ${permission}${granted}. ` +
    `An administrator must add it under ${ADD_PERMISSION_PATH} → ${permission}, then grant admin consent` +
    ` (Grant admin consent for the tenant, or open ${consentUrl}).`
  );
}

/**
 * The hint for a 403 Authorization_RequestDenied: which application permissions are missing
 * (from the token's `roles` claim when readable — a diagnostic, the 403 itself is the proof),
 * that an administrator must grant admin consent, and the consent link.
 */
export function permissionDeniedHint(roles: readonly string[] | undefined, consentUrl: string): string {
  const how =
    `An administrator must add them under ${ADD_PERMISSION_PATH}, then grant admin consent` +
    ` (Grant admin consent for the tenant, or open ${consentUrl}).`;
  if (roles === undefined) {
    return `The app lacks Microsoft Graph application permissions: it needs User.Read.All and GroupMember.Read.All (or Directory.Read.All). ${how}`;
  }
  if (roles.length === 0) {
    return `The app's token carries no application permissions at all, so admin consent has not been granted: it needs User.Read.All and GroupMember.Read.All (or Directory.Read.All). ${how}`;
  }
  const missing = missingPermissions(roles);
  if (missing.length === 0) {
    return `The token already carries ${roles.join(', ')}, yet Microsoft Graph denied access: consent granted in the last minutes may still be propagating — test again shortly; otherwise check that admin consent was granted for this tenant (${consentUrl}).`;
  }
  return `The app is missing the Microsoft Graph application permission${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} (granted: ${roles.join(', ')}; Directory.Read.All would cover both). ${how}`;
}
