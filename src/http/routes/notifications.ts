import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  MarkedSchema,
  MarkReadBodySchema,
  NotificationListQuerySchema,
  NotificationSchema,
} from '../../contract/notifications.js';
import { NotificationInbox } from '../../jobs/notifier.js';
import type { App } from '../../services/app.js';
import { orgOf } from '../auth.js';
import { OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

/** An organization's notifications (failed and held syncs, secret expiry) and marking them read. */
export const notificationRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  const inbox = new NotificationInbox(app);

  api.get(
    '/orgs/:org/notifications',
    {
      schema: {
        tags: ['notifications'],
        params: OrgParams,
        querystring: NotificationListQuerySchema,
        response: { 200: Type.Array(NotificationSchema), ...errors },
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
        body: MarkReadBodySchema,
        response: { 200: MarkedSchema, ...errors },
      },
    },
    async (request) => ({
      marked: await inbox.markRead(orgOf(request).id, request.body.ids ?? null),
    }),
  );
};
