/**
 * The directory part of the HTTP contract: users and groups as the API shows them, the bodies that
 * create and change them, list pages and their queries, and an end user's own profile (`/me`).
 * src/services/directory.ts takes its view types from here; the console imports them.
 */
import { type Static, type TSchema, Type } from 'typebox';
import { GROUP_KINDS, ROLES, SOURCES, USER_STATUSES } from '../directory/model.js';
import { MAILBOX_FILTERS, MAILBOX_KINDS, type RecipientFacts } from '../directory/recipients.js';
import { type Equal, Nullable, OneOf, said } from './common.js';

/** A user as the API, the console and `users list --json` show it, with its recipient facts. */
export const UserViewSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  aliases: Type.Array(Type.String()),
  firstName: Nullable(Type.String()),
  lastName: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  role: OneOf(ROLES),
  status: OneOf(USER_STATUSES),
  mailbox: said(
    Nullable(Type.Enum(MAILBOX_KINDS)),
    "Exchange's mailbox purpose (user, shared, room, equipment, linked, others); null while unknown",
  ),
  source: OneOf(SOURCES),
  externalId: Nullable(Type.String()),
  exempt: Type.Boolean(),
  // The recipient facts (src/directory/recipients.ts), proven equal below.
  functional: Type.Boolean(),
  deliverable: said(Type.Boolean(), 'mail to its addresses is accepted'),
  canSignIn: said(Type.Boolean(), 'may sign in to the console'),
  receivesDigests: said(Type.Boolean(), 'gets quarantine digests'),
  billable: said(Type.Boolean(), "counts against the organization's licensed seats"),
  signInRefusal: said(Nullable(Type.String()), 'why it may not sign in (null when it may)'),
});

/** A group as the API shows it: members by address (users) or address, else name (groups). */
export const GroupViewSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  kind: OneOf(GROUP_KINDS),
  email: Nullable(Type.String()),
  aliases: Type.Array(Type.String()),
  members: Type.Array(Type.String()),
  source: OneOf(SOURCES),
  externalId: Nullable(Type.String()),
  exempt: Type.Boolean(),
});

/** GET …/groups/{id}: the group with every user reached through nested groups. */
export const GroupDetailSchema = Type.Intersect([
  GroupViewSchema,
  Type.Object({ effectiveMembers: Type.Array(Type.String()) }),
]);

/** A page of a list answer (users, groups). */
export const PageSchema = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    total: Type.Integer(),
    limit: Type.Integer(),
    offset: Type.Integer(),
  });

export const ListQuerySchema = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }),
  // Bounded to what the databases' integers hold (PostgreSQL refuses an offset past 2^63).
  offset: Type.Integer({ minimum: 0, maximum: 2_147_483_647, default: 0 }),
});

/** The users list: also narrowed by mailbox purpose (`functional`: shared, room and equipment). */
export const UserListQuerySchema = Type.Intersect([
  ListQuerySchema,
  Type.Object({ mailbox: Type.Optional(Type.Enum(MAILBOX_FILTERS)) }),
]);

const Name = Type.String({ maxLength: 256 });
const Address = Type.String({ minLength: 3, maxLength: 254 });

/** A hand-made user (POST …/users). */
export const NewUserBodySchema = Type.Object(
  {
    email: Address,
    aliases: Type.Optional(Type.Array(Address, { maxItems: 100 })),
    firstName: Type.Optional(Nullable(Name)),
    lastName: Type.Optional(Nullable(Name)),
    displayName: Type.Optional(Nullable(Name)),
    role: Type.Optional(OneOf(ROLES)),
    status: Type.Optional(OneOf(USER_STATUSES)),
    exempt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UserPatchBodySchema = Type.Partial(NewUserBodySchema, { additionalProperties: false });

/** A hand-made group (POST …/groups): members by address (users) or address or name (groups). */
export const NewGroupBodySchema = Type.Object(
  {
    name: Name,
    kind: OneOf(GROUP_KINDS),
    email: Type.Optional(Nullable(Address)),
    aliases: Type.Optional(Type.Array(Address, { maxItems: 100 })),
    members: Type.Optional(Type.Array(Type.String({ maxLength: 256 }), { maxItems: 10000 })),
    exempt: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const GroupPatchBodySchema = Type.Partial(NewGroupBodySchema, { additionalProperties: false });

/** GET /me: an end user's own profile. */
export const MeSchema = Type.Object({
  user: UserViewSchema,
  organization: Type.Object({ id: Type.String(), name: Type.String() }),
  receivesQuarantineDigests: Type.Boolean(),
});

export type UserView = Static<typeof UserViewSchema>;
export type GroupView = Static<typeof GroupViewSchema>;
export type GroupDetail = Static<typeof GroupDetailSchema>;
export type NewUserBody = Static<typeof NewUserBodySchema>;
export type NewGroupBody = Static<typeof NewGroupBodySchema>;
export type Me = Static<typeof MeSchema>;
/** A page of a list answer, of any item. */
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}
const _pageIsServed: Equal<
  Static<ReturnType<typeof PageSchema<typeof UserViewSchema>>>,
  Page<UserView>
> = true;

// The recipient facts are the directory's (a leaf the contract does not own): proven the same.
type ViewedFacts = Pick<UserView, keyof RecipientFacts>;
const _factsAreTheDirectorys: Equal<ViewedFacts, RecipientFacts> = true;
