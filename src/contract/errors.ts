/**
 * The error part of the HTTP contract: every 4xx and 5xx answer is `{ error: … }` in this shape,
 * a stable code and a sentence to act on (src/services/error-body.ts makes it from an error).
 */
import { type Static, Type } from 'typebox';

/** One field's refusal; `untested` when saving untested would pass it (a new key Entra refused). */
export const FieldErrorSchema = Type.Object({
  field: Type.String(),
  message: Type.String(),
  untested: Type.Optional(Type.Literal(true)),
});

export const ErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  field: Type.Optional(Type.String()),
  fields: Type.Optional(Type.Array(FieldErrorSchema)),
});

/** The body of an error answer (registered once as `Error`, referenced by every route). */
export const ErrorBodySchema = Type.Object({ error: ErrorSchema }, { $id: 'Error' });

export type FieldError = Static<typeof FieldErrorSchema>;
export type ErrorBody = Static<typeof ErrorSchema>;
