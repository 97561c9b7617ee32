import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { AppError } from '../directory/errors.js';
import { GraphError } from '../graph/index.js';
import type { App } from '../services/app.js';
import { authPlugin } from './auth.js';
import { CONSOLE_ROOT, registerConsole } from './console.js';
import { authRoutes } from './routes/auth.js';
import { directoryRoutes } from './routes/directory.js';
import { jobRoutes } from './routes/jobs.js';
import { orgRoutes } from './routes/orgs.js';
import { syncRoutes } from './routes/sync.js';
import { ErrorBody } from './schemas.js';

export interface ServerOptions {
  /** Fastify's logger (pino) options; false in tests. */
  logger?: boolean | object;
  /** Behind a TLS-terminating proxy: trust X-Forwarded-Proto for the Secure cookie flag. */
  trustProxy?: boolean;
}

/** The HTTP server: health, the JSON API under /api/v1 and its OpenAPI document. */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  const server = Fastify({
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  server.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === 'body' ? strictBodies : coercingStrings).compile(schema),
  );

  server.addSchema(ErrorBody);
  await server.register(cookie);
  await server.register(rateLimit, { global: false });
  await server.register(swagger, {
    openapi: {
      info: { title: 'entrasync API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'entrasync_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
  });
  await server.register(authPlugin, { app });
  server.setErrorHandler(errorHandler);

  server.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  await server.register(
    async (api) => {
      await api.register(authRoutes, { app });
      await api.register(orgRoutes, { app });
      await api.register(directoryRoutes, { app });
      await api.register(syncRoutes, { app });
      api.get('/openapi.json', { schema: { hide: true } }, async () => server.swagger());
    },
    { prefix: '/api/v1' },
  );
  await server.register(jobRoutes, { app });
  await registerConsole(server, { root: CONSOLE_ROOT });
  return server;
}

/**
 * A JSON body says what type each value is, so it is taken as sent: `true` is not the seat count 1
 * nor `"10"` the number 10 — a wrong type is refused, never coerced and saved. Query strings,
 * path parameters and headers are text by nature and are coerced to their schema's types.
 */
const strictBodies = new Ajv({
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: true,
  allErrors: false,
});
const coercingStrings = new Ajv({
  removeAdditional: false,
  coerceTypes: 'array',
  useDefaults: true,
  allErrors: false,
});

/** Every error becomes {error: {code, message, field?}} with the status its code stands for. */
function errorHandler(
  error: FastifyError | AppError,
  _request: unknown,
  reply: import('fastify').FastifyReply,
) {
  if (error instanceof GraphError) {
    // Microsoft refused or failed: the organization's settings or Entra need attention, not our server.
    return reply.status(502).send({
      error: { code: error.code, message: `${error.detail || error.message} ${error.hint}`.trim() },
    });
  }
  if (error instanceof AppError) {
    return reply
      .status(error.status)
      .send({ error: { code: error.code, message: error.message, field: error.field } });
  }
  if (error.validation) {
    const first = error.validation[0];
    const field =
      first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') || first?.params?.missingProperty;
    const where = error.validationContext ?? 'body';
    return reply.status(400).send({
      error: {
        code: 'invalid_input',
        message: `${where}${field ? `.${field}` : ''} ${first?.message ?? 'is not valid'}`,
        field: typeof field === 'string' && field ? field : undefined,
      },
    });
  }
  if (error.statusCode === 429) {
    return reply
      .status(429)
      .send({ error: { code: 'rate_limited', message: 'Too many attempts: wait a minute and try again.' } });
  }
  if (error.statusCode && error.statusCode < 500) {
    return reply.status(error.statusCode).send({ error: { code: 'invalid_input', message: error.message } });
  }
  reply.log.error(error);
  return reply
    .status(500)
    .send({ error: { code: 'internal', message: 'Something went wrong on the server; it is logged.' } });
}
