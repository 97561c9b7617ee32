/**
 * The sign-in part of the HTTP contract: who is calling (an operator, a user of one organization,
 * an API token) and a session. src/services/auth.ts proves the permissions' Principal the same
 * (the contract imports no product module beyond pure word lists).
 */
import { type Static, Type } from 'typebox';
import { ROLES } from '../directory/model.js';
import { Nullable, OneOf, said } from './common.js';

export const PrincipalSchema = Type.Union([
  Type.Object({ type: Type.Literal('operator'), id: Type.String(), email: Type.String() }),
  Type.Object({
    type: Type.Literal('user'),
    id: Type.String(),
    orgId: Type.String(),
    role: OneOf(ROLES),
    email: Type.String(),
  }),
  Type.Object({
    type: Type.Literal('token'),
    id: Type.String(),
    name: Type.String(),
    orgId: said(Nullable(Type.String()), 'null: an operator token'),
  }),
]);

export const SessionSchema = Type.Object({
  principal: PrincipalSchema,
  csrfToken: said(Type.String(), 'sent back as the x-csrf-token header of every change'),
  expiresAt: Type.String(),
});

export const LoginBodySchema = Type.Object(
  {
    email: Type.String({ minLength: 1, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 512 }),
  },
  { additionalProperties: false },
);

export type ServedPrincipal = Static<typeof PrincipalSchema>;
export type Session = Static<typeof SessionSchema>;
