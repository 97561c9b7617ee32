/**
 * The organizations part of the HTTP contract: an organization and its domains (proven and
 * pending), the bodies that create and change them, its API tokens and its audit log. The
 * directory's own Organization and DomainEntry are proven the same below; the services' token
 * list and audit page are typed by these schemas.
 */
import { type Static, Type } from 'typebox';
import { DOMAIN_PROOFS, type DomainEntry, type Organization } from '../directory/model.js';
import { type Equal, Nullable, OneOf, said } from './common.js';
import { TOKEN_DAYS } from './limits.js';

const Domain = Type.String({ minLength: 1, maxLength: 253 });

export const OrganizationSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  domains: said(Type.Array(Type.String()), 'proven domains: they accept addresses'),
  pendingDomains: said(
    Type.Array(Type.String()),
    'added by an organization admin and not proven yet: they accept no address',
  ),
  licensedSeats: said(Nullable(Type.Integer()), "seats the customer's licence covers; null: not tracked"),
  createdAt: Type.String(),
});

/** POST /orgs (operators only). */
export const NewOrganizationBodySchema = Type.Object(
  {
    name: Type.String({ maxLength: 200 }),
    domains: Type.Array(Type.String({ maxLength: 253 }), { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

/** PATCH /orgs/{org}: at least one field. */
export const OrganizationPatchBodySchema = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 200 })),
    // The licence is the operator's contract with the customer: operators set it.
    licensedSeats: Type.Optional(Nullable(Type.Integer())),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const DomainBodySchema = Type.Object({ domain: Domain }, { additionalProperties: false });
export const DomainParamsSchema = Type.Object({
  org: Type.String(),
  domain: Type.String({ maxLength: 253 }),
});

/** One domain of an organization, with what it takes to prove it while it is pending. */
export const DomainEntrySchema = Type.Object({
  domain: Type.String(),
  status: OneOf(['verified', 'pending'] as const),
  provenBy: said(Nullable(OneOf(DOMAIN_PROOFS)), 'how the domain came to count; null while pending'),
  provenAt: Nullable(Type.String()),
  createdAt: Type.String(),
  txtRecord: said(
    Nullable(Type.Object({ name: Type.String(), type: Type.Literal('TXT'), value: Type.String() })),
    'the record to publish at the domain while it is pending; null once proven',
  ),
  lastCheck: said(
    Nullable(Type.Object({ at: Type.String(), outcome: Type.String() })),
    'the latest Verify of a pending domain: when, and what it found',
  ),
});

/** An API token as listed: never the token itself, which is shown once, on creation. */
export const ApiTokenSchema = Type.Object({
  id: Type.String(),
  orgId: said(Nullable(Type.String()), 'null: an operator token'),
  name: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Nullable(Type.String()),
  expiresAt: Type.String(),
  canCreateTokens: Type.Boolean(),
});

/** POST …/api-tokens. */
export const NewApiTokenBodySchema = Type.Object(
  {
    name: Type.String({ maxLength: 100 }),
    expiresInDays: Type.Optional(
      Type.Integer({ minimum: 1, maximum: TOKEN_DAYS.max, default: TOKEN_DAYS.default }),
    ),
    // Whether requests made with the new token may create tokens themselves.
    canCreateTokens: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

/** A new token: the one time its value is shown. */
export const CreatedApiTokenSchema = Type.Object({
  id: Type.String(),
  token: Type.String(),
  expiresAt: Type.String(),
});

export const AuditQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
});

/** One entry of an organization's audit log, newest first. */
export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Nullable(Type.String()),
  targetLabel: said(
    Nullable(Type.String()),
    "the target as people know it (a user's address, a group's name, a run's trigger and start), recorded with the entry; null: show the id",
  ),
  // What each action recorded (its own small JSON, written by the service that audits it, never a
  // secret): free-form by design, one shape per action, so not described field by field.
  detail: Type.Unknown(),
});

export type OrganizationView = Static<typeof OrganizationSchema>;
export type DomainEntryView = Static<typeof DomainEntrySchema>;
export type NewOrganizationBody = Static<typeof NewOrganizationBodySchema>;
export type ApiToken = Static<typeof ApiTokenSchema>;
export type NewApiTokenBody = Static<typeof NewApiTokenBodySchema>;
export type CreatedApiToken = Static<typeof CreatedApiTokenSchema>;
export type AuditEntryView = Static<typeof AuditEntrySchema>;

// The directory's organization and domain entry (the store and the services use them) are the
// served shapes: proven the same, so neither can gain a field the other lacks.
const _organizationIsServed: Equal<OrganizationView, Organization> = true;
const _domainEntryIsServed: Equal<DomainEntryView, DomainEntry> = true;
