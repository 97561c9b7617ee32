/**
 * The Entra settings part of the HTTP contract: the settings as shown (the secret only as set /
 * last 4 / expiry — there is no field that could carry it), a change to them, and the connection
 * test's report. src/services/entra-settings.ts takes its types from here.
 */
import { type Static, Type } from 'typebox';
import { BLOCKED_MAILBOX_RULES } from '../directory/recipients.js';
import { CLOUD_NAMES } from '../graph/clouds.js';
import type { DiagnosticReport as GraphDiagnosticReport } from '../graph/connector.js';
import { FREQUENCIES } from '../sync/schedule-words.js';
import { type Equal, Nullable, OneOf, said } from './common.js';
import { DefaultRoleSchema, HowSwitchesSchema, WhatSwitchesSchema } from './sync.js';

/** How often automatic syncs run, in hours; null = manual only ("never"). */
export const FrequencySchema = Nullable(OneOf(FREQUENCIES));

/** The settings as the console and CLI show them: the secret only as "set, ends in …". */
export const EntraSettingsViewSchema = Type.Object({
  configured: Type.Boolean(),
  tenant: Nullable(Type.String()),
  clientId: Nullable(Type.String()),
  secret: Type.Object({
    set: Type.Boolean(),
    last4: Nullable(Type.String()),
    expiresAt: Nullable(Type.String()),
  }),
  defaultRole: DefaultRoleSchema,
  blockedMailboxes: said(
    OneOf(BLOCKED_MAILBOX_RULES),
    'mailboxes with sign-in blocked whose purpose is unknown: keep receiving mail, or reject it',
  ),
  includeGuests: Type.Boolean({ description: 'guest users (userType Guest) are synced too' }),
  what: WhatSwitchesSchema,
  how: HowSwitchesSchema,
  frequencyHours: FrequencySchema,
  cloud: OneOf(CLOUD_NAMES),
  authorityHost: Nullable(Type.String()),
  graphUrl: Nullable(Type.String()),
  caPem: Nullable(Type.String()),
  adminConsentUrl: said(
    Nullable(Type.String()),
    'the link an Entra administrator opens to grant admin consent, once tenant and client ID are set',
  ),
});

/**
 * A change to the settings; absent fields keep their value. The secret is write-only. Words
 * (role, rule, cloud) are strings here: the service refuses an unknown one by name.
 */
export const EntraSettingsBodySchema = Type.Object(
  {
    tenant: Type.Optional(Type.String({ maxLength: 253 })),
    clientId: Type.Optional(Type.String({ maxLength: 64 })),
    clientSecret: Type.Optional(Type.String({ maxLength: 1024 })),
    secretExpiresAt: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
    defaultRole: Type.Optional(Type.String({ maxLength: 20 })),
    blockedMailboxes: Type.Optional(Type.String({ maxLength: 20 })),
    includeGuests: Type.Optional(Type.Boolean()),
    what: Type.Optional(Type.Partial(WhatSwitchesSchema, { additionalProperties: false })),
    how: Type.Optional(Type.Partial(HowSwitchesSchema, { additionalProperties: false })),
    frequencyHours: Type.Optional(Nullable(Type.Integer())),
    cloud: Type.Optional(Type.String({ maxLength: 20 })),
    authorityHost: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
    graphUrl: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
    caPem: Type.Optional(Nullable(Type.String({ maxLength: 20000 }))),
    saveUntested: Type.Optional(
      Type.Boolean({
        description:
          'Save a new key without first trying it against Entra (otherwise a key Entra refuses, or cannot be asked about, is not saved).',
      }),
    ),
  },
  { additionalProperties: false },
);

/** The connection test's report: src/graph/connector.ts DiagnosticReport, proven equal below. */
export const DiagnosticReportSchema = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(
    Type.Object({
      step: OneOf(['token', 'tenant', 'users', 'groups', 'members', 'mailboxes', 'domains'] as const),
      ok: Type.Boolean(),
      skipped: Type.Optional(Type.Boolean({ description: 'not run because an earlier step failed' })),
      code: Type.Optional(Type.String({ description: 'a Graph error code (docs/errors.md)' })),
      message: Type.Optional(Type.String()),
      hint: Type.Optional(Type.String()),
    }),
  ),
  tenantId: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  consentUrl: Type.String(),
});

export type EntraSettingsView = Static<typeof EntraSettingsViewSchema>;
/** The body's fields the service takes (saveUntested is the route's: how to save, not what). */
export type EntraSettingsInput = Omit<Static<typeof EntraSettingsBodySchema>, 'saveUntested'>;
export type DiagnosticReport = Static<typeof DiagnosticReportSchema>;

// The connector declares its report itself, with its codes typed: every report it makes must be
// one this schema serves in full (a step code is served as its string).
type Served = Omit<GraphDiagnosticReport, 'steps'> & {
  steps: (Omit<GraphDiagnosticReport['steps'][number], 'code'> & { code?: string })[];
};
const _diagnosticMatches: Equal<Served, DiagnosticReport> = true;
void _diagnosticMatches;
