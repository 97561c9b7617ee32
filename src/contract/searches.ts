/**
 * The Search part of the HTTP contract: a manual-sync preview running as a job (its state, phase
 * and progress, and once done the stored preview's id) and the list of the latest ones (what a
 * Search may override is the sync part's RunOverrides). src/services/searches.ts proves
 * the store's record the same (the store may not import the contract).
 */
import { type Static, Type } from 'typebox';
import { Nullable, OneOf, said } from './common.js';
import { SEARCH_LIST_MAX } from './limits.js';

export const SEARCH_STATES = ['running', 'done', 'failed', 'cancelled'] as const;
/** Reading Entra, planning, storing the preview. */
export const SEARCH_PHASES = ['read', 'plan', 'store'] as const;

const Collection = Type.Object({ pages: Type.Integer(), objects: Type.Integer() });

/** An error as the API answers it, kept with the search that ended in it. */
export const SearchErrorSchema = Type.Object({
  code: Type.String(),
  message: Type.String(),
  hint: Type.Optional(Type.String()),
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
});

export const SearchViewSchema = Type.Object({
  id: Type.String(),
  state: OneOf(SEARCH_STATES),
  phase: said(
    Nullable(OneOf(SEARCH_PHASES)),
    'reading Entra, planning, storing the preview; null once finished',
  ),
  cancelRequested: Type.Boolean(),
  startedAt: Type.String(),
  updatedAt: said(Type.String(), "the runner's last progress or heartbeat write"),
  finishedAt: Nullable(Type.String()),
  startedBy: Type.String(),
  progress: said(
    Type.Object({
      users: Type.Optional(Collection),
      groups: Type.Optional(Collection),
      mailboxes: Type.Optional(Collection),
    }),
    'pages and objects read per collection so far; collections not reached yet are absent',
  ),
  planId: said(Nullable(Type.String()), 'once done: the stored preview, read with GET …/sync/plans/{planId}'),
  error: said(
    Nullable(SearchErrorSchema),
    'once failed: the error body the API answers for it (interrupted: its server stopped)',
  ),
});

export const SearchListQuerySchema = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: SEARCH_LIST_MAX, default: 5 }) },
  { additionalProperties: false },
);

export const SearchParamsSchema = Type.Object({
  org: Type.String(),
  searchId: Type.String({ maxLength: 64 }),
});

export type SearchView = Static<typeof SearchViewSchema>;
