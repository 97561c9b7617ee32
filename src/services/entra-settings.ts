import type { EntraSettingsInput, EntraSettingsView } from '../contract/settings.js';
import { normalizeDomain } from '../directory/addresses.js';
import { AppError, type FieldError, invalid, invalidFields } from '../directory/errors.js';
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
  GraphError,
  INTERACTIVE,
  resolveEndpoints,
} from '../graph/index.js';
import type { Store } from '../store/database.js';
import { EntraSettingsRepository } from '../store/entra-settings-repository.js';
import type { EntraSettingsTable } from '../store/schema.js';
import {
  DEFAULT_HOW,
  DEFAULT_WHAT,
  type DefaultRole,
  type HowSwitches,
  type SyncPolicy,
  type WhatSwitches,
} from '../sync/policy.js';
import { FREQUENCIES } from '../sync/schedule-words.js';
import type { Runtime } from './clock.js';
import type { SecretBox } from './secrets.js';
import { type ConnectorFactory, defaultConnectorFactory } from './sync.js';

/** How often automatic syncs run; null = manual only ("never"). */
export { FREQUENCIES };
export type FrequencyHours = (typeof FREQUENCIES)[number] | null;

// The settings as shown and a change to them: the HTTP contract's types (src/contract/settings.ts).
export type { EntraSettingsInput, EntraSettingsView };

/** Where the input came from: custom endpoints are an operator's (CLI) choice, or need the server flag. */
export interface InputOrigin {
  allowCustomEndpoints: boolean;
  /** An operator (or the CLI) sends it: the tenant that custom endpoints reach may then prove domains. */
  byOperator: boolean;
}

/** How a save goes beyond checking the fields. */
export interface SaveOptions {
  /**
   * Try a new key against Entra (one token request) before it replaces the saved one, and refuse
   * it when Entra refuses it or cannot be reached. The console and the CLI ask for it unless the
   * admin chose to save untested.
   */
  tryNewKey?: boolean;
}

const TENANT_REQUIRED =
  'The primary domain (tenant) is required: a verified domain of the tenant or its GUID.';
const CLIENT_ID_REQUIRED = 'The client ID is required: the Application (client) ID of the app registration.';
const SECRET_REQUIRED =
  "The key (client secret) is required the first time: the secret's Value, shown once when it is created in Entra.";
const SECRET_EMPTY = 'The key (client secret) is empty: leave the field out to keep the saved key.';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One organization's Entra connection settings. */
export class EntraSettingsService {
  constructor(
    private readonly store: Store,
    private readonly orgId: string,
    private readonly box: SecretBox,
    private readonly runtime: Runtime,
    /** How a new key is tried against Entra before it is saved. */
    private readonly connectors: ConnectorFactory = defaultConnectorFactory,
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
        includeGuests: false,
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
      includeGuests: Boolean(row.include_guests),
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

  /**
   * Validates every field and saves; nothing is written on any error. A field equal to its saved
   * value is no change (a form may resend what it showed). Every field's refusal is reported at
   * once (`AppError.fields`). With `tryNewKey`, a new key is first tried against Entra (one token
   * request) and is not saved when Entra refuses it or cannot be reached.
   */
  async set(
    input: EntraSettingsInput,
    origin: InputOrigin,
    actor: string,
    options: SaveOptions = {},
  ): Promise<EntraSettingsView> {
    const current = await this.#row();
    const errors: FieldError[] = [];
    const changed: string[] = [];
    /** The parsed value, or undefined after recording the field's refusal. */
    const check = <T>(work: () => T): T | undefined => {
      try {
        return work();
      } catch (error) {
        if (!(error instanceof AppError) || !error.field) throw error;
        errors.push({ field: error.field, message: error.message });
        return undefined;
      }
    };
    /** The value to save: the saved one unless the input gives another (which is then a change). */
    const pick = <T>(field: keyof EntraSettingsInput, saved: T, parse: () => T): T => {
      if (input[field] === undefined) return saved;
      const value = check(parse);
      if (value === undefined) return saved;
      if (!sameValue(value, saved)) changed.push(field);
      return value;
    };

    const tenant = pick('tenant', current?.tenant ?? null, () =>
      required(input.tenant, 'tenant', TENANT_REQUIRED, parseTenant),
    );
    if (!tenant && input.tenant === undefined) errors.push({ field: 'tenant', message: TENANT_REQUIRED });
    const clientId = pick('clientId', current?.client_id ?? null, () =>
      required(input.clientId, 'clientId', CLIENT_ID_REQUIRED, parseClientId),
    );
    if (!clientId && input.clientId === undefined)
      errors.push({ field: 'clientId', message: CLIENT_ID_REQUIRED });

    const savedSecret = current?.secret_ciphertext ? this.box.open(current.secret_ciphertext) : null;
    let newSecret: string | null = null;
    if (input.clientSecret !== undefined) {
      const secret = check(() =>
        required(
          input.clientSecret,
          'clientSecret',
          savedSecret ? SECRET_EMPTY : SECRET_REQUIRED,
          parseSecret,
        ),
      );
      if (secret !== undefined && secret !== savedSecret) {
        newSecret = secret;
        changed.push('clientSecret');
      }
    } else if (!savedSecret) {
      errors.push({ field: 'clientSecret', message: SECRET_REQUIRED });
    }

    const today = this.runtime.now().toISOString().slice(0, 10);
    const secretExpiresAt = pick('secretExpiresAt', current?.secret_expires_at ?? null, () => {
      const date = parseDate(input.secretExpiresAt ?? null);
      if (date !== null && date < today && date !== current?.secret_expires_at) {
        throw invalid(
          'secretExpiresAt',
          `The key expiry date ${date} is in the past: a key that expired no longer signs in. Create a new key in Entra (Certificates & secrets) and enter its expiry date.`,
        );
      }
      return date;
    });
    const defaultRole = pick('defaultRole', current?.default_role ?? 'end_user', () =>
      parseDefaultRole(input.defaultRole ?? ''),
    );
    const blockedMailboxes = pick(
      'blockedMailboxes',
      current?.blocked_mailboxes ?? DEFAULT_BLOCKED_MAILBOX_RULE,
      () => parseBlockedMailboxes(input.blockedMailboxes),
    );
    const includeGuests = pick('includeGuests', current?.include_guests ?? false, () =>
      parseIncludeGuests(input.includeGuests),
    );
    const savedWhat: WhatSwitches = current ? JSON.parse(current.what) : { ...DEFAULT_WHAT };
    const what = pick('what', savedWhat, () => {
      const next = { ...savedWhat, ...parseSwitches(input.what, DEFAULT_WHAT, 'what') };
      if (!Object.values(next).some(Boolean) && !sameValue(next, savedWhat))
        throw invalid(
          'what',
          'Choose at least one thing to sync (users, distribution groups or security groups): with none, a sync reads nothing.',
        );
      return next;
    });
    const savedHow: HowSwitches = current ? JSON.parse(current.how) : { ...DEFAULT_HOW };
    const how = pick('how', savedHow, () => {
      const next = { ...savedHow, ...parseSwitches(input.how, DEFAULT_HOW, 'how') };
      if (!Object.values(next).some(Boolean) && !sameValue(next, savedHow))
        throw invalid(
          'how',
          'Choose at least one way to sync (add, update or remove users or groups): with none, a sync changes nothing.',
        );
      return next;
    });
    const frequencyHours = pick('frequencyHours', current?.frequency_hours ?? null, () =>
      parseFrequency(input.frequencyHours ?? null),
    );
    const cloud = pick('cloud', current?.cloud ?? 'global', () => parseCloud(input.cloud ?? ''));
    const before = changed.length;
    const authorityHost = pick('authorityHost', current?.authority_host ?? null, () =>
      parseHttpsOrigin(input.authorityHost ?? null, 'authorityHost'),
    );
    const graphUrl = pick('graphUrl', current?.graph_url ?? null, () =>
      parseHttpsOrigin(input.graphUrl ?? null, 'graphUrl'),
    );
    const caPem = pick('caPem', current?.ca_pem ?? null, () => parseCaPem(input.caPem ?? null));
    const changesEndpoints = changed.length > before;
    if (changesEndpoints && !origin.allowCustomEndpoints) {
      for (const field of changed.slice(before))
        errors.push({
          field,
          message:
            'Custom endpoints are disabled on this server (they let a tenant choose outbound URLs): an operator can set them with the CLI, or start the server with ENTRASYNC_ALLOW_CUSTOM_CLOUD=1.',
        });
    }
    if (errors.length) throw invalidFields(errors);

    const secret = newSecret ?? savedSecret;
    if (!tenant || !clientId || !secret) throw new Error('unreachable: required fields were checked');
    if (newSecret !== null && options.tryNewKey) {
      await this.#tryKey(savedSecret !== null, {
        tenant,
        clientId,
        clientSecret: newSecret,
        cloud: cloud as Cloud,
        ...(authorityHost ? { authorityHost } : {}),
        ...(graphUrl ? { graphUrl } : {}),
        ...(caPem ? { caPem } : {}),
      });
    }

    const row: EntraSettingsTable = {
      org_id: this.orgId,
      tenant,
      client_id: clientId,
      secret_ciphertext: newSecret === null ? (current?.secret_ciphertext ?? null) : this.box.seal(newSecret),
      secret_last4: newSecret === null ? (current?.secret_last4 ?? null) : newSecret.slice(-4),
      secret_expires_at: secretExpiresAt,
      default_role: defaultRole,
      blocked_mailboxes: blockedMailboxes,
      include_guests: includeGuests,
      what: JSON.stringify(what),
      how: JSON.stringify(how),
      frequency_hours: frequencyHours,
      cloud,
      authority_host: authorityHost,
      graph_url: graphUrl,
      ca_pem: caPem,
      endpoints_by_operator: changesEndpoints ? origin.byOperator : (current?.endpoints_by_operator ?? false),
      updated_at: this.runtime.now().toISOString(),
    };
    await new EntraSettingsRepository(this.store.db, this.orgId).save(
      row,
      current !== undefined,
      {
        orgId: this.orgId,
        actor,
        action: 'entra.settings',
        targetType: 'organization',
        targetId: this.orgId,
        detail: {
          changed,
          ...(newSecret !== null ? { keyTried: Boolean(options.tryNewKey) } : {}),
        },
      },
      this.runtime.now(),
    );
    return this.get();
  }

  /** One token request with a new key; refuses (field by field) what Entra refused or could not answer. */
  async #tryKey(hadKey: boolean, candidate: GraphConnection): Promise<void> {
    const connector = this.connectors(candidate, { patience: INTERACTIVE });
    try {
      await connector.signIn();
    } catch (error) {
      if (!(error instanceof GraphError)) throw error;
      throw invalidFields([keyRefusal(error, hadKey)]);
    } finally {
      await connector.close();
    }
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
      includeGuests: view.includeGuests,
    };
  }

  async #row(): Promise<EntraSettingsTable | undefined> {
    return new EntraSettingsRepository(this.store.db, this.orgId).row();
  }
}

/** An empty text is "required"; anything else is parsed. */
function required<T>(
  input: string | undefined,
  field: string,
  message: string,
  parse: (text: string) => T,
): T {
  if (input === undefined || input.trim() === '') throw invalid(field, message);
  return parse(input);
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The field and sentence for a new key Entra did not accept; saving untested passes it. */
function keyRefusal(error: GraphError, hadKey: boolean): FieldError {
  const aadsts = /AADSTS\d+/.exec(error.detail)?.[0];
  const code = aadsts ? ` (${aadsts})` : '';
  const kept = hadKey ? ' The key saved before is kept.' : '';
  const untested = true as const;
  switch (error.code) {
    case 'invalid_secret':
      return {
        field: 'clientSecret',
        message: `Entra refused this key${code}: this is not a valid key of this app. Copy the secret's Value (shown once when it is created), not its Secret ID.${kept}`,
        untested,
      };
    case 'expired_secret':
      return {
        field: 'clientSecret',
        message: `Entra refused this key${code}: it has expired. ${error.hint}${kept}`,
        untested,
      };
    case 'unknown_tenant':
    case 'malformed_tenant':
      return {
        field: 'tenant',
        message: `The new key could not be tried: ${error.hint}${kept}`,
        untested,
      };
    case 'unknown_client':
    case 'no_service_principal':
      return {
        field: 'clientId',
        message: `The new key could not be tried: ${error.hint}${kept}`,
        untested,
      };
    case 'wrong_cloud':
      return { field: 'cloud', message: `The new key could not be tried: ${error.hint}${kept}`, untested };
    case 'network':
    case 'tls':
    case 'service_unavailable':
    case 'throttled':
      return {
        field: 'clientSecret',
        message: `Entra could not be reached to try this key, so it was not saved (${error.detail || error.code}). Save it untested to keep it anyway.${kept}`,
        untested,
      };
    default:
      return {
        field: 'clientSecret',
        message: `Entra did not accept this key: ${`${error.detail} ${error.hint}`.trim()}${kept}`,
        untested,
      };
  }
}

function parseIncludeGuests(input: unknown): boolean {
  if (typeof input === 'boolean') return input;
  throw invalid(
    'includeGuests',
    `${JSON.stringify(input)} is not true or false: say whether guest users are synced.`,
  );
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
