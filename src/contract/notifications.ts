/**
 * The notifications part of the HTTP contract: an organization's inbox (failed and held syncs,
 * an expiring secret, seats exceeded) and marking it read. The store's NotificationRecord is
 * proven the same as the served shape in src/jobs/notifier.ts (the store may not import the
 * contract).
 */
import { type Static, Type } from 'typebox';
import { Nullable } from './common.js';

export const NotificationSchema = Type.Object({
  id: Type.String(),
  // A string, not an enum: a row of a kind a later version adds is still served.
  kind: Type.String({ description: 'sync_failed, sync_held, secret_expiring or seats_exceeded' }),
  title: Type.String(),
  message: Type.String(),
  runId: Nullable(Type.String()),
  createdAt: Type.String(),
  readAt: Nullable(Type.String()),
  delivery: Nullable(Type.Record(Type.String(), Type.String())),
});

export const NotificationListQuerySchema = Type.Object({
  unread: Type.Boolean({ default: false }),
  limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
});

export const MarkReadBodySchema = Type.Object(
  { ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })) },
  { additionalProperties: false, description: 'ids to mark read; all unread ones when absent' },
);

export const MarkedSchema = Type.Object({ marked: Type.Integer() });

export type Notification = Static<typeof NotificationSchema>;
