import { GraphError } from './odata.js';
import type { GraphObject } from './tenant.js';

/**
 * Exchange Online's side of a user, as Graph serves it under `/users/{id}/mailboxSettings`:
 * whether the user has a mailbox, and that mailbox's settings. Graph forwards these requests to
 * Exchange, so permissions and errors are Exchange's, not the directory's (docs/emulator.md).
 */

/** Values of the CSDL enum `userPurpose` a mailbox may have (`unknownFutureValue` is only a sentinel). */
export const USER_PURPOSES = ['user', 'linked', 'shared', 'room', 'equipment', 'others'] as const;
export type UserPurpose = (typeof USER_PURPOSES)[number];

/** Application permissions that read mailbox settings (user-get-mailboxsettings). */
export const MAILBOX_SETTINGS_READ = ['MailboxSettings.Read', 'MailboxSettings.ReadWrite'];

/**
 * The structural properties of the CSDL complex type `mailboxSettings`, in schema order; the values
 * a mailbox shows when its tenant file sets nothing else (those of Microsoft's examples, in UTC).
 */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  archiveFolder: null, // derived per mailbox in mailboxSettingsOf()
  automaticRepliesSetting: {
    status: 'disabled',
    externalAudience: 'all',
    internalReplyMessage: '',
    externalReplyMessage: '',
    scheduledStartDateTime: { dateTime: '2026-01-01T00:00:00.0000000', timeZone: 'UTC' },
    scheduledEndDateTime: { dateTime: '2026-01-02T00:00:00.0000000', timeZone: 'UTC' },
  },
  dateFormat: 'M/d/yyyy',
  delegateMeetingMessageDeliveryOptions: 'sendToDelegateOnly',
  language: { locale: 'en-US', displayName: 'English (United States)' },
  timeFormat: 'h:mm tt',
  timeZone: 'UTC',
  userPurpose: 'user',
  workingHours: {
    daysOfWeek: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'],
    startTime: '08:00:00.0000000',
    endTime: '17:00:00.0000000',
    timeZone: { name: 'UTC' },
  },
};

/** The names of the `mailboxSettings` properties, in CSDL order. */
export const MAILBOX_SETTINGS_PROPERTIES = Object.keys(DEFAULT_SETTINGS);

/**
 * True when Exchange has a mailbox for the user: a member with an SMTP address. Guests are mail
 * users of their home tenant, and a user without an SMTP proxy address has no mailbox even when
 * `mail` is set (docs/graph-facts.md §2.3).
 */
export function hasMailbox(props: GraphObject): boolean {
  if (props.userType === 'Guest') return false;
  const proxies = Array.isArray(props.proxyAddresses) ? (props.proxyAddresses as unknown[]) : [];
  return proxies.some((p) => typeof p === 'string' && p.slice(0, 5).toLowerCase() === 'smtp:');
}

/** The settings Exchange serves for a mailbox user: the defaults overlaid with what the tenant sets. */
export function mailboxSettingsOf(props: GraphObject): Record<string, unknown> {
  const own = (props.mailboxSettings ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const p of MAILBOX_SETTINGS_PROPERTIES) out[p] = own[p] ?? DEFAULT_SETTINGS[p];
  // Every mailbox has an archive folder; its id is opaque, so one derived from the user id will do.
  out.archiveFolder ??= `AAMkAD${Buffer.from(props.id.replace(/-/g, ''), 'hex').toString('base64')}AAEMAAA=`;
  return out;
}

/** Why a user's `mailboxSettings` cannot be stored, or null when it can. */
export function mailboxSettingsProblem(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return 'mailboxSettings must be an object';
  for (const key of Object.keys(value)) {
    if (!MAILBOX_SETTINGS_PROPERTIES.includes(key))
      return `mailboxSettings has no property '${key}' (CSDL: ${MAILBOX_SETTINGS_PROPERTIES.join(', ')})`;
  }
  const purpose = (value as Record<string, unknown>).userPurpose;
  if (purpose !== undefined && !USER_PURPOSES.includes(purpose as UserPurpose))
    return `mailboxSettings.userPurpose must be one of ${USER_PURPOSES.join(', ')}`;
  return null;
}

/** Exchange's 403 for an app without MailboxSettings.Read (microsoft-graph-docs#3289, office-js#6057). */
export function mailboxAccessDenied(): GraphError {
  return new GraphError(403, 'ErrorAccessDenied', 'Access is denied. Check credentials and try again.');
}

/** Exchange's 404 for a user without an Exchange Online mailbox (guests included). */
export function mailboxNotEnabled(): GraphError {
  return new GraphError(
    404,
    'MailboxNotEnabledForRESTAPI',
    'The mailbox is either inactive, soft-deleted, or is hosted on-premise.',
  );
}

/** Exchange's 404 for a user id or UPN the directory does not know (microsoft-graph-docs-contrib#6308). */
export function mailboxUserNotFound(): GraphError {
  return new GraphError(404, 'ResourceNotFound', 'Resource could not be discovered.');
}

/** The name of a `mailboxSettings` property as the schema spells it (segments and $select ignore case). */
export function mailboxSettingsProperty(name: string): string | undefined {
  const lower = name.toLowerCase();
  return MAILBOX_SETTINGS_PROPERTIES.find((p) => p.toLowerCase() === lower);
}
