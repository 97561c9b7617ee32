/**
 * zod schemas of the Graph payloads we read. Objects are loose (Graph adds properties over time),
 * but every property we use is checked; a payload that fails is a malformed_payload error.
 * Optional means "absent in this response" — in delta rounds that keeps the previous value.
 */
import { z } from 'zod';

const removed = z.looseObject({ reason: z.string() });
const text = z.string().nullable().optional();
const flag = z.boolean().nullable().optional();
const strings = z.array(z.string()).nullable().optional();

/** A user as /users/delta returns it (only the properties we $select). */
export const userItemSchema = z.looseObject({
  id: z.string().min(1),
  '@removed': removed.optional(),
  userPrincipalName: text,
  userType: text,
  accountEnabled: flag,
  mail: text,
  proxyAddresses: strings,
  givenName: text,
  surname: text,
  displayName: text,
});
export type UserItem = z.infer<typeof userItemSchema>;

/** An entry of a group's `members@delta`: type and id, or a removal. */
export const memberRefSchema = z.looseObject({
  '@odata.type': z.string().min(1),
  id: z.string().min(1),
  '@removed': removed.optional(),
});

/** A group as /groups/delta returns it, with a slice of its membership changes. */
export const groupItemSchema = z.looseObject({
  id: z.string().min(1),
  '@removed': removed.optional(),
  displayName: text,
  mail: text,
  mailEnabled: flag,
  securityEnabled: flag,
  groupTypes: strings,
  proxyAddresses: strings,
  'members@delta': z.array(memberRefSchema).optional(),
});
export type GroupItem = z.infer<typeof groupItemSchema>;

/** A domain as GET /domains?$select=id,isVerified returns it: the id is the domain name. */
export const domainItemSchema = z.looseObject({ id: z.string().min(1), isVerified: z.boolean() });

/** Any directory object reduced to its id (probe reads). */
export const idItemSchema = z.looseObject({ id: z.string().min(1) });

/** A collection page: items plus at most one of nextLink / deltaLink. */
export const pageSchema = z.looseObject({
  value: z.array(z.unknown()),
  '@odata.nextLink': z.string().min(1).optional(),
  '@odata.deltaLink': z.string().min(1).optional(),
});

/** A $batch answer: one response per request, in any order, correlated by `id` (docs/graph-facts.md §4). */
export const batchResponseSchema = z.looseObject({
  responses: z.array(
    z.looseObject({
      id: z.string(),
      status: z.number().int(),
      headers: z.record(z.string(), z.string()).nullable().optional(),
      body: z.unknown().optional(),
    }),
  ),
});
export type BatchResponseItem = z.infer<typeof batchResponseSchema>['responses'][number];

/** The answer to GET /users/{id}/mailboxSettings/userPurpose: `{"@odata.context": …, "value": "shared"}`. */
export const userPurposeSchema = z.looseObject({ value: z.string() });

/** Graph's error envelope; `innerError` is spelled either way and may nest (docs/graph-facts.md §6.2). */
export const graphErrorSchema = z.looseObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string().optional(),
    innerError: z.unknown().optional(),
    innererror: z.unknown().optional(),
  }),
});
