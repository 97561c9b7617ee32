import { Type } from 'typebox';
import { Nullable } from '../contract/common.js';

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

/*
 * The directory's shapes live in the contract (src/contract/directory.ts); the routes take them
 * by these names.
 */
export {
  GroupDetailSchema as GroupDetail,
  GroupPatchBodySchema as GroupPatchBody,
  GroupViewSchema as GroupView,
  ListQuerySchema as ListQuery,
  MeSchema as Me,
  NewGroupBodySchema as NewGroupBody,
  NewUserBodySchema as NewUserBody,
  PageSchema as Page,
  UserListQuerySchema as UserListQuery,
  UserPatchBodySchema as UserPatchBody,
  UserViewSchema as UserView,
} from '../contract/directory.js';

export const OrgParams = Type.Object({ org: Type.String({ minLength: 1, maxLength: 253 }) });
export const OrgItemParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 253 }),
  id: Type.String({ minLength: 1, maxLength: 64 }),
});

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
