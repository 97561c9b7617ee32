import { Type } from 'typebox';
import { Nullable } from '../contract/common.js';

/** Request and response schemas of the JSON API: responses are serialized through these, so a field
 * not listed here (a password hash, a client secret) cannot leak by accident. */

/*
 * The shapes themselves live in the contract (src/contract/); the routes take them by these names.
 */
export { SessionSchema as SessionBody } from '../contract/auth.js';
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
export { ErrorBodySchema as ErrorBody } from '../contract/errors.js';

/** `T | null`, null first: the contract's one helper (src/contract/common.ts says why). */
export { Nullable };

export const OrgParams = Type.Object({ org: Type.String({ minLength: 1, maxLength: 253 }) });
export const OrgItemParams = Type.Object({
  org: Type.String({ minLength: 1, maxLength: 253 }),
  id: Type.String({ minLength: 1, maxLength: 64 }),
});

export const Ok = Type.Object({ ok: Type.Boolean() });
