import { normalizeDomain } from '../directory/addresses.js';
import { invalid } from '../directory/errors.js';
import {
  BLOCKED_MAILBOX_RULES,
  type BlockedMailboxRule,
  DEFAULT_BLOCKED_MAILBOX_RULE,
} from '../directory/recipients.js';
import {
  adminConsentUrl,
  CLOUD_NAMES,
  type Cloud,
  type GraphConnection,
  resolveEndpoints,
} from '../graph/index.js';
import { recordAudit } from '../store/audit.js';
import type { Store } from '../store/database.js';
import type { EntraSettingsTable } from '../store/schema.js';
import {
  DEFAULT_HOW,
  DEFAULT_WHAT,
  type DefaultRole,
  type HowSwitches,
  type SyncPolicy,
  type WhatSwitches,
} from '../sync/policy.js';
import type { Runtime } from './clock.js';
import type { SecretBox } from './secrets.js';

/** How often automatic syncs run; null = manual only ("never"). */
export const FREQUENCIES = [1, 3, 6, 12, 24] as const;
export type FrequencyHours = (typeof FREQUENCIES)[number] | null;

/** The settings as the console and CLI show them: the secret only as "set, ends in …". */
export interface EntraSettingsView {
  configured: boolean;
  tenant: string | null;
  clientId: string | null;
  secret: { set: boolean; last4: string | null; expiresAt: string | null };
  defaultRole: DefaultRole;
  /** Mailboxes with sign-in blocked whose purpose is unknown: keep receiving mail, or reject it. */
  blockedMailboxes: BlockedMailboxRule;
  what: WhatSwitches;
  how: HowSwitches;
  frequencyHours: FrequencyHours;
  cloud: Cloud;
  authorityHost: string | null;
  graphUrl: string | null;
  caPem: string | null;
  /** The link an Entra administrator opens to grant admin consent, once tenant and client ID are set. */
  adminConsentUrl: string | null;
}

/** A change to the settings; absent fields keep their value. The secret is write-only. */
export interface EntraSettingsInput {
  tenant?: string;
  clientId?: string;
  clientSecret?: string;
  secretExpiresAt?: string | null;
  defaultRole?: string;
  blockedMailboxes?: string;
  what?: Partial<WhatSwitches>;
  how?: Partial<HowSwitches>;
  frequencyHours?: number | null;
  cloud?: string;
  authorityHost?: string | null;
  graphUrl?: string | null;
  caPem?: string | null;
}

/** Where the input came from: custom endpoints are an operator's (CLI) choice, or need the server flag. */
export interface InputOrigin {
  allowCustomEndpoints: boolean;
  /** An operator (or the CLI) sends it: the tenant that custom endpoints reach may then prove domains. */
  byOperator: boolean;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One organization's Entra connection settings. */
export class EntraSettingsService {
  constructor(
    private readonly store: Store,
    private readonly orgId: string,
    private readonly box: SecretBox,
    private readonly runtime: Runtime,
  ) {}

  async get(): Promise<EntraSettingsView> {
    const row = await this.#row();
    if (!row) {
      return {
        configured: false,
        tenant: null,
        clientId: null,
        secret: { set: false, last4: null, expiresAt: null },
        defaultRole: 'end_user',
        blockedMailboxes: DEFAULT_BLOCKED_MAILBOX_RULE,
        what: { ...DEFAULT_WHAT },
        how: { ...DEFAULT_HOW },
        frequencyHours: null,
        cloud: 'global',
        authorityHost: null,
        graphUrl: null,
        caPem: null,
        adminConsentUrl: null,
      };
    }
    const cloud = row.cloud as Cloud;
    const endpoints = resolveEndpoints(cloud, {
      authorityHost: row.authority_host ?? undefined,
      graphUrl: row.graph_url ?? undefined,
    });
    return {
      configured: row.secret_ciphertext !== null,
      tenant: row.tenant,
      clientId: row.client_id,
      secret: {
        set: row.secret_ciphertext !== null,
        last4: row.secret_last4,
        expiresAt: row.secret_expires_at,
      },
      defaultRole: row.default_role as DefaultRole,
      blockedMailboxes: row.blocked_mailboxes as BlockedMailboxRule,
      what: JSON.parse(row.what) as WhatSwitches,
      how: JSON.parse(row.how) as HowSwitches,
      frequencyHours: row.frequency_hours as FrequencyHours,
      cloud,
      authorityHost: row.authority_host,
      graphUrl: row.graph_url,
      caPem: row.ca_pem,
      adminConsentUrl: adminConsentUrl(endpoints, row.tenant, row.client_id),
    };
  }

  /** Validates every field (all errors are per field) and saves; nothing is written on any error. */
  async set(input: EntraSettingsInput, origin: InputOrigin, actor: string): Promise<EntraSettingsView> {
    const current = await this.#row();
    const tenant = input.tenant === undefined ? current?.tenant : parseTenant(input.tenant);
    if (!tenant)
      throw invalid(
        'tenant',
        'The primary domain (tenant) is required: a verified domain of the tenant or its GUID.',
      );
    const clientId = input.clientId === undefined ? current?.client_id : parseClientId(input.clientId);
    if (!clientId)
      throw invalid(
        'clientId',
        'The client ID is required: the Application (client) ID of the app registration.',
      );
    let secretCiphertext = current?.secret_ciphertext ?? null;
    let secretLast4 = current?.secret_last4 ?? null;
    if (input.clientSecret !== undefined) {
      const secret = parseSecret(input.clientSecret);
      secretCiphertext = this.box.seal(secret);
      secretLast4 = secret.slice(-4);
    }
    if (!secretCiphertext)
      throw invalid('clientSecret', 'The key (client secret) is required the first time.');
    const custom = {
      authorityHost:
        input.authorityHost === undefined
          ? (current?.authority_host ?? null)
          : parseHttpsOrigin(input.authorityHost, 'authorityHost'),
      graphUrl:
        input.graphUrl === undefined
          ? (current?.graph_url ?? null)
          : parseHttpsOrigin(input.graphUrl, 'graphUrl'),
      caPem: input.caPem === undefined ? (current?.ca_pem ?? null) : parseCaPem(input.caPem),
    };
    const changesEndpoints = input.authorityHost != null || input.graphUrl != null || input.caPem != null;
    if (changesEndpoints && !origin.allowCustomEndpoints) {
      throw invalid(
        input.authorityHost != null ? 'authorityHost' : input.graphUrl != null ? 'graphUrl' : 'caPem',
        'Custom endpoints are disabled on this server (they let a tenant choose outbound URLs): an operator can set them with the CLI, or start the server with ENTRASYNC_ALLOW_CUSTOM_CLOUD=1.',
      );
    }
    const row: EntraSettingsTable = {
      org_id: this.orgId,
      tenant,
      client_id: clientId,
      secret_ciphertext: secretCiphertext,
      secret_last4: secretLast4,
      secret_expires_at:
        input.secretExpiresAt === undefined
          ? (current?.secret_expires_at ?? null)
          : parseDate(input.secretExpiresAt),
      default_role:
        input.defaultRole === undefined
          ? (current?.default_role ?? 'end_user')
          : parseDefaultRole(input.defaultRole),
      blocked_mailboxes:
        input.blockedMailboxes === undefined
          ? (current?.blocked_mailboxes ?? DEFAULT_BLOCKED_MAILBOX_RULE)
          : parseBlockedMailboxes(input.blockedMailboxes),
      what: JSON.stringify({
        ...(current ? JSON.parse(current.what) : DEFAULT_WHAT),
        ...parseSwitches(input.what, DEFAULT_WHAT, 'what'),
      }),
      how: JSON.stringify({
        ...(current ? JSON.parse(current.how) : DEFAULT_HOW),
        ...parseSwitches(input.how, DEFAULT_HOW, 'how'),
      }),
      frequency_hours:
        input.frequencyHours === undefined
          ? (current?.frequency_hours ?? null)
          : parseFrequency(input.frequencyHours),
      cloud: input.cloud === undefined ? (current?.cloud ?? 'global') : parseCloud(input.cloud),
      authority_host: custom.authorityHost,
      graph_url: custom.graphUrl,
      ca_pem: custom.caPem,
      endpoints_by_operator: changesEndpoints
        ? origin.byOperator
        : (current?.endpoints_by_operator ?? false),
      updated_at: this.runtime.now().toISOString(),
    };
    await this.store.db.transaction().execute(async (trx) => {
      if (current) {
        const { org_id: _o, ...fields } = row;
        await trx.updateTable('entra_settings').set(fields).where('org_id', '=', this.orgId).execute();
      } else {
        await trx.insertInto('entra_settings').values(row).execute();
      }
      const changed = Object.keys(input).filter((k) => (input as Record<string, unknown>)[k] !== undefined);
      await recordAudit(
        trx,
        {
          orgId: this.orgId,
          actor,
          action: 'entra.settings',
          targetType: 'organization',
          targetId: this.orgId,
          detail: { changed },
        },
        this.runtime.now(),
      );
    });
    return this.get();
  }

  /** The connection to read the tenant with (decrypts the secret), or an error saying what to set first. */
  async connection(): Promise<GraphConnection> {
    const row = await this.#row();
    if (!row?.secret_ciphertext) {
      throw invalid(
        'entra',
        'This organization has no Entra connection yet: set it up first (`entrasync entra set`).',
      );
    }
    return {
      tenant: row.tenant,
      clientId: row.client_id,
      clientSecret: this.box.open(row.secret_ciphertext),
      cloud: row.cloud as Cloud,
      ...(row.authority_host ? { authorityHost: row.authority_host } : {}),
      ...(row.graph_url ? { graphUrl: row.graph_url } : {}),
      ...(row.ca_pem ? { caPem: row.ca_pem } : {}),
    };
  }

  /**
   * The connection whose tenant may prove this organization's domains, or why there is none:
   * Microsoft's clouds always; custom endpoints only when an operator chose them, because an
   * endpoint an organization admin picked could claim any domain.
   */
  async domainProofConnection(): Promise<GraphConnection | { notAsked: string }> {
    const row = await this.#row();
    if (!row?.secret_ciphertext) return { notAsked: 'this organization has no Entra connection saved' };
    if ((row.authority_host || row.graph_url) && !row.endpoints_by_operator) {
      return {
        notAsked:
          "the organization's Entra connection uses custom endpoints that no operator set, and those could answer anything",
      };
    }
    return this.connection();
  }

  /** The saved policy, with optional overrides for one run. */
  async policy(overrides: { what?: WhatSwitches; how?: HowSwitches } = {}): Promise<SyncPolicy> {
    const view = await this.get();
    return {
      what: overrides.what ?? view.what,
      how: overrides.how ?? view.how,
      defaultRole: view.defaultRole,
      blockedMailboxes: view.blockedMailboxes,
    };
  }

  async #row(): Promise<EntraSettingsTable | undefined> {
    return this.store.db
      .selectFrom('entra_settings')
      .selectAll()
      .where('org_id', '=', this.orgId)
      .executeTakeFirst();
  }
}

function parseBlockedMailboxes(input: unknown): BlockedMailboxRule {
  if (typeof input === 'string' && (BLOCKED_MAILBOX_RULES as readonly string[]).includes(input))
    return input as BlockedMailboxRule;
  throw invalid(
    'blockedMailboxes',
    `${JSON.stringify(input)} is not a rule for mailboxes with sign-in blocked: use deliver (keep receiving mail) or reject (inactive).`,
  );
}

function parseTenant(input: string): string {
  const text = input.trim();
  if (GUID.test(text)) return text.toLowerCase();
  if (['common', 'organizations', 'consumers'].includes(text.toLowerCase())) {
    throw invalid(
      'tenant',
      `"${text}" names no tenant: use the tenant's verified domain (e.g. contoso.onmicrosoft.com) or its GUID.`,
    );
  }
  const domain = normalizeDomain(text);
  if (!domain) {
    throw invalid(
      'tenant',
      `"${input}" is neither a domain nor a tenant GUID: use e.g. contoso.onmicrosoft.com or the Directory (tenant) ID.`,
    );
  }
  return domain;
}

function parseClientId(input: string): string {
  const text = input.trim();
  if (!GUID.test(text)) {
    throw invalid(
      'clientId',
      `"${input}" is not a client ID: copy the Application (client) ID, a GUID, from the app registration's Overview.`,
    );
  }
  return text.toLowerCase();
}

function parseSecret(input: string): string {
  const secret = input.trim();
  if (!secret) throw invalid('clientSecret', 'The key (client secret) is empty.');
  if (secret.length > 1024)
    throw invalid('clientSecret', 'The key (client secret) is longer than 1024 characters.');
  if (GUID.test(secret)) {
    throw invalid(
      'clientSecret',
      "This looks like the Secret ID (a GUID): copy the secret's Value instead, shown once when it is created.",
    );
  }
  return secret;
}

function parseDate(input: string | null): string | null {
  if (input === null || input.trim() === '') return null;
  const text = input.trim();
  const date = new Date(`${text}T00:00:00Z`);
  if (!DATE.test(text) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text) {
    throw invalid('secretExpiresAt', `"${input}" is not a date: use YYYY-MM-DD, e.g. 2027-06-30.`);
  }
  return text;
}

function parseDefaultRole(input: string): DefaultRole {
  if (input === 'end_user' || input === 'silent_user') return input;
  throw invalid('defaultRole', `"${input}" is not a default role: use end_user or silent_user.`);
}

function parseFrequency(input: number | null): number | null {
  if (input === null) return null;
  if ((FREQUENCIES as readonly number[]).includes(input)) return input;
  throw invalid(
    'frequencyHours',
    `Sync frequency must be one of ${FREQUENCIES.join(', ')} hours, or never (null).`,
  );
}

function parseCloud(input: string): Cloud {
  if ((CLOUD_NAMES as string[]).includes(input)) return input as Cloud;
  throw invalid('cloud', `"${input}" is not a cloud: use one of ${CLOUD_NAMES.join(', ')}.`);
}

function parseSwitches<T extends object>(input: Partial<T> | undefined, shape: T, field: string): Partial<T> {
  if (input === undefined) return {};
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(key in shape))
      throw invalid(field, `"${key}" is not a ${field} switch: use ${Object.keys(shape).join(', ')}.`);
    if (typeof value !== 'boolean') throw invalid(field, `${field}.${key} must be true or false.`);
    (out as Record<string, boolean>)[key] = value;
  }
  return out;
}

function parseHttpsOrigin(input: string | null, field: string): string | null {
  if (input === null || input.trim() === '') return null;
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    throw invalid(field, `"${input}" is not a URL: give an https:// origin such as https://127.0.0.1:8443.`);
  }
  if (url.protocol !== 'https:')
    throw invalid(field, `${field} must use https (Microsoft's libraries refuse http authorities).`);
  if (url.pathname !== '/' || url.search || url.hash || url.username) {
    throw invalid(field, `${field} must be an origin only (https://host[:port]), without path or query.`);
  }
  return url.origin;
}

function parseCaPem(input: string | null): string | null {
  if (input === null || input.trim() === '') return null;
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(input)) {
    throw invalid('caPem', 'The CA file is not a PEM certificate (-----BEGIN CERTIFICATE-----…).');
  }
  return input.trim();
}
