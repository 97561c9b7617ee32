import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { NotificationInbox } from '../../jobs/notifier.js';
import type { App } from '../../services/app.js';
import { orgOf } from '../auth.js';
import { Nullable, OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

const Notification = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'sync_failed, sync_held, secret_expiring or seats_exceeded' }),
  title: Type.String(),
  message: Type.String(),
  runId: Nullable(Type.String()),
  createdAt: Type.String(),
  readAt: Nullable(Type.String()),
  delivery: Nullable(Type.Record(Type.String(), Type.String())),
});

/** An organization's notifications (failed and held syncs, secret expiry) and marking them read. */
export const notificationRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  const inbox = new NotificationInbox(app);

  api.get(
    '/orgs/:org/notifications',
    {
      schema: {
        tags: ['notifications'],
        params: OrgParams,
        querystring: Type.Object({
          unread: Type.Boolean({ default: false }),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
          offset: Type.Integer({ minimum: 0, default: 0 }),
        }),
        response: { 200: Type.Array(Notification), ...errors },
      },
    },
    async (request) =>
      inbox.list(orgOf(request).id, {
        unreadOnly: request.query.unread,
        limit: request.query.limit,
        offset: request.query.offset,
      }),
  );

  api.post(
    '/orgs/:org/notifications/read',
    {
      schema: {
        tags: ['notifications'],
        params: OrgParams,
        body: Type.Object(
          { ids: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1000 })) },
          { additionalProperties: false, description: 'ids to mark read; all unread ones when absent' },
        ),
        response: { 200: Type.Object({ marked: Type.Integer() }), ...errors },
      },
    },
    async (request) => ({
      marked: await inbox.markRead(orgOf(request).id, request.body.ids ?? null),
    }),
  );
};
