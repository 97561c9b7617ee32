/**
 * The overview part of the HTTP contract: one organization's automatic sync (health, schedule,
 * held run) and the operators' overview across organizations, ranked by what needs attention.
 * src/jobs/overview.ts and src/jobs/attention.ts take their types and words from here.
 */
import { type Static, Type } from 'typebox';
import { Nullable, OneOf, said } from './common.js';
import { ATTENTION, type Attention } from './words.js';

// The words are plain lists in words.ts (no imports), so the console can take them as values.
export { ATTENTION, type Attention, NEEDS, type Need, OVERVIEW_SORTS, type OverviewSort } from './words.js';

/** What the console's overview shows of an organization's automatic sync. */
export const SyncOverviewSchema = Type.Object({
  connection: Type.Object({
    configured: Type.Boolean(),
    healthy: said(
      Type.Boolean(),
      'false from a failed sync (automatic, manual or an approval) until one succeeds',
    ),
    lastError: Nullable(
      Type.Object({ code: Type.String(), message: Type.String(), hint: Type.Optional(Type.String()) }),
    ),
    consecutiveFailures: said(
      Type.Integer(),
      "automatic failures in a row: the backoff's streak (manual failures do not add to it)",
    ),
    lastFailureAt: Nullable(Type.String()),
  }),
  frequencyHours: Nullable(Type.Integer()),
  lastSuccessfulSync: Nullable(
    Type.Object({ runId: Type.String(), startedAt: Type.String(), finishedAt: Nullable(Type.String()) }),
  ),
  nextScheduledSync: said(
    Nullable(Type.String()),
    'null: manual only, not connected, or paused while a run awaits approval',
  ),
  heldRun: Nullable(
    Type.Object({ runId: Type.String(), startedAt: Type.String(), reason: Nullable(Type.String()) }),
  ),
  unreadNotifications: Type.Integer(),
});

const Reason = OneOf(ATTENTION.filter((a): a is Exclude<Attention, 'ok'> => a !== 'ok'));

/** One organization of the operators' overview. */
export const AttentionItemSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  domains: Type.Integer(),
  connected: Type.Boolean(),
  attention: said(OneOf(ATTENTION), "the most urgent of `reasons`; 'ok' when there are none"),
  reasons: said(Type.Array(Reason), 'everything that needs attention, most urgent first'),
  health: Type.Object({
    healthy: Type.Boolean(),
    consecutiveFailures: Type.Integer(),
    lastError: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    lastFailureAt: Nullable(Type.String()),
  }),
  lastRun: Nullable(Type.Object({ status: Type.String(), startedAt: Type.String() })),
  lastSuccessAt: Nullable(Type.String()),
  heldRunId: Nullable(Type.String()),
  key: Nullable(Type.Object({ expiresAt: Type.String(), daysLeft: Type.Integer() })),
  frequencyHours: Nullable(Type.Integer()),
});

/** GET /overview: a page of the organizations, ranked. */
export const ServiceOverviewSchema = Type.Object({
  total: Type.Integer(),
  items: Type.Array(AttentionItemSchema),
});

export type SyncOverview = Static<typeof SyncOverviewSchema>;
export type AttentionItem = Static<typeof AttentionItemSchema>;
export type ServiceOverview = Static<typeof ServiceOverviewSchema>;

/** The most organizations one page of the operators' overview holds. */
export const SERVICE_OVERVIEW_PAGE_MAX = 500;

/** GET /overview: sort, order and the needs filter are words checked by the route, so a bad one is refused by name. */
export const ServiceOverviewQuerySchema = Type.Object(
  {
    sort: Type.String({ maxLength: 40, default: 'attention' }),
    order: Type.String({ maxLength: 40, default: 'asc' }),
    needs: Type.Optional(Type.String({ maxLength: 40 })),
    offset: Type.Integer({ minimum: 0, maximum: 1_000_000_000, default: 0 }),
    limit: Type.Integer({ minimum: 1, maximum: SERVICE_OVERVIEW_PAGE_MAX, default: 50 }),
  },
  { additionalProperties: false },
);

export type ServiceOverviewQuery = Static<typeof ServiceOverviewQuerySchema>;
