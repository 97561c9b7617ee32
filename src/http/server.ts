import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { AppError, invalid } from '../directory/errors.js';
import { hasControlCharacter } from '../directory/text.js';
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
  /**
   * Behind a reverse proxy (TRUST_PROXY): X-Forwarded-For is the client's address for the per-IP
   * sign-in limit, and X-Forwarded-Proto says https for the Secure cookie and HSTS.
   */
  trustProxy?: boolean;
  /** PEM certificate and key: listen on https instead of http. */
  https?: { cert: string | Buffer; key: string | Buffer };
}

/** Browsers that saw the site over https keep to https for a year (RFC 6797). */
const HSTS = 'max-age=31536000';

/**
 * Fastify logs every request twice at info, and every refused one (401, 404, 429…) once more: a
 * flood of bad sign-ins would be a flood of log lines. Request lines go to debug; failures of the
 * server itself (5xx, errored responses) keep their level.
 */
class QuietRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) {
      super.requestCompleted(error, request, reply);
      return;
    }
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  override defaultErrorLog(error: Error, request: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) {
      super.defaultErrorLog(error, request, reply);
      return;
    }
    reply.log.debug({ res: reply, err: error }, error?.message);
  }

  override routeNotFound(request: FastifyRequest): void {
    request.log.debug(`Route ${request.method}:${request.url} not found`);
  }
}

/** The HTTP server: health, the JSON API under /api/v1 and its OpenAPI document. */
export async function buildServer(app: App, options: ServerOptions = {}): Promise<FastifyInstance> {
  // Fastify types an https server apart from an http one; the routes cannot tell, so one type serves.
  const server = Fastify({
    logger: options.logger ?? false,
    logController: new QuietRequestLog(),
    trustProxy: options.trustProxy ?? false,
    ...(options.https ? { https: options.https } : {}),
  } as Parameters<typeof Fastify>[0]).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;
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
  // Before any schema or service sees the input: PostgreSQL cannot store a NUL, and no field of
  // this API means a control character — refused alike on both databases, naming the field.
  server.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['query', request.query],
      ['params', request.params],
    ] as const) {
      const field = controlCharacterAt(value, '');
      if (field !== undefined) {
        const name = field || part;
        throw invalid(name, `${name} contains a control character (such as NUL), which no field accepts.`);
      }
    }
  });
  // request.protocol is https over our own TLS, or behind a trusted proxy that received https.
  server.addHook('onSend', async (request, reply) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', HSTS);
  });

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

/** The path (`a.b[2]`, '' for the value itself) of the first string holding a control character. */
function controlCharacterAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return hasControlCharacter(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = controlCharacterAt(item, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (hasControlCharacter(key)) return here;
      const found = controlCharacterAt(item, here);
      if (found !== undefined) return found;
    }
  }
  return undefined;
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
