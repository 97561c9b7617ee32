import { type TSchema, Type } from 'typebox';
import { Nullable } from '../contract/common.js';
import { MAILBOX_FILTERS, MAILBOX_KINDS } from '../directory/recipients.js';

/** Request and response schemas of the JSON API: responses are serialized through these, so a field
 * not listed here (a password hash, a client secret) cannot leak by accident. */

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      field: Type.Optional(Type.String()),
      fields: Type.Optional(
        Type.Array(
          Type.Object({
            field: Type.String(),
            message: Type.String(),
            untested: Type.Optional(Type.Literal(true)),
          }),
        ),
      ),
    }),
  },
  { $id: 'Error' },
);

/** `T | null`, null first: the contract's one helper (src/contract/common.ts says why). */
export { Nullable };

export const Organization = Type.Object({
  id: Type.String(),
  name: Type.String(),
  /** Proven domains: they accept addresses. */
  domains: Type.Array(Type.String()),
  /** Added by an organization admin and not proven yet: they accept no address. */
  pendingDomains: Type.Array(Type.String()),
  licensedSeats: Nullable(Type.Integer()),
  createdAt: Type.String(),
});

export const UserView = Type.Object({
  id: Type.String(),
  email: Type.String(),
  aliases: Type.Array(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  role: Type.Union([Type.Literal('org_admin'), Type.Literal('end_user'), Type.Literal('silent_user')]),
  status: Type.Union([Type.Literal('active'), Type.Literal('inactive')]),
  mailbox: Nullable(Type.Enum(MAILBOX_KINDS)),
  source: Type.Union([Type.Literal('manual'), Type.Literal('entra')]),
  externalId: Nullable(Type.String()),
  exempt: Type.Boolean(),
  functional: Type.Boolean(),
  deliverable: Type.Boolean(),
  canSignIn: Type.Boolean(),
  receivesDigests: Type.Boolean(),
  billable: Type.Boolean(),
  signInRefusal: Nullable(Type.String()),
});

export const GroupView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: Type.Union([Type.Literal('distribution'), Type.Literal('security')]),
  email: Nullable(Type.String()),
  aliases: Type.Array(Type.String()),
  members: Type.Array(Type.String()),
  source: Type.Union([Type.Literal('manual'), Type.Literal('entra')]),
  externalId: Nullable(Type.String()),
  exempt: Type.Boolean(),
});

export const GroupDetail = Type.Intersect([
  GroupView,
  Type.Object({ effectiveMembers: Type.Array(Type.String()) }),
]);

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });

export const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  // Bounded to what the databases' integers hold (PostgreSQL refuses an offset past 2^63).
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
});

/** The users list: also narrowed by mailbox purpose (`functional`: shared, room and equipment). */
export const UserListQuery = Type.Intersect([
  ListQuery,
  Type.Object({ mailbox: Type.Optional(Type.Enum(MAILBOX_FILTERS)) }),
]);

export const OrgParams = Type.Object({ org: Type.String({ minLength: 1, maxLength: 253 }) });
export const OrgItemParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 253 }),
  id: Type.String({ minLength: 1, maxLength: 64 }),
});

const Name = Type.String({ maxLength: 256 });
const Address = Type.String({ minLength: 3, maxLength: 254 });

export const NewUserBody = Type.Object(
  {
    email: Address,
    aliases: Type.Optional(Type.Array(Address, { maxItems: 100 })),
    firstName: Type.Optional(Nullable(Name)),
    lastName: Type.Optional(Nullable(Name)),
    displayName: Type.Optional(Nullable(Name)),
    role: Type.Optional(
      Type.Union([Type.Literal('org_admin'), Type.Literal('end_user'), Type.Literal('silent_user')]),
    ),
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('inactive')])),
    exempt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UserPatchBody = Type.Partial(NewUserBody, { additionalProperties: false });

export const NewGroupBody = Type.Object(
  {
    name: Name,
    kind: Type.Union([Type.Literal('distribution'), Type.Literal('security')]),
    email: Type.Optional(Nullable(Address)),
    aliases: Type.Optional(Type.Array(Address, { maxItems: 100 })),
    members: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 10000 })),
    exempt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const GroupPatchBody = Type.Partial(NewGroupBody, { additionalProperties: false });

export const Principal = Type.Object({
  type: Type.Union([Type.Literal('operator'), Type.Literal('user'), Type.Literal('token')]),
  id: Type.String(),
  email: Type.Optional(Type.String()),
  orgId: Type.Optional(Nullable(Type.String())),
  role: Type.Optional(Type.String()),
  name: Type.Optional(Type.String()),
});

export const SessionBody = Type.Object({
  principal: Principal,
  csrfToken: Type.String(),
  expiresAt: Type.String(),
});

export const Ok = Type.Object({ ok: Type.Boolean() });
