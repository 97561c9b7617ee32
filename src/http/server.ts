import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ValidateFunction } from 'ajv';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { invalid } from '../directory/errors.js';
import { hasControlCharacter } from '../directory/text.js';
import type { App } from '../services/app.js';
import { errorResponse, INTERNAL_ERROR } from '../services/error-body.js';
import { authPlugin } from './auth.js';
import { CONSOLE_ROOT, registerConsole } from './console.js';
import { authRoutes } from './routes/auth.js';
import { directoryRoutes } from './routes/directory.js';
import { jobRoutes } from './routes/jobs.js';
import { orgRoutes } from './routes/orgs.js';
import { searchRoutes } from './routes/searches.js';
import { syncRoutes } from './routes/sync.js';
import { ErrorBody } from './schemas.js';

export interface ServerOptions {
  /** Fastify's logger (pino) options; false in tests. */
  logger?: boolean | object;
  /** A ready pino logger (`serve`'s, in the configured LOG_FORMAT, secrets redacted); wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
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
    ...(options.loggerInstance
      ? { loggerInstance: options.loggerInstance }
      : { logger: options.logger ?? false }),
    logController: new QuietRequestLog(),
    trustProxy: options.trustProxy ?? false,
    // Fastify refuses some URLs itself before routing (not valid percent-encoded UTF-8, a parameter
    // past the router's length limit): answered in the API's error shape like every other refusal.
    frameworkErrors: errorHandler,
    ...(options.https ? { https: options.https } : {}),
  } as Parameters<typeof Fastify>[0]).withTypeProvider<TypeBoxTypeProvider>() as unknown as FastifyInstance;
  server.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? strictTypes.compile(schema) : readingText(strictTypes.compile(schema), schema),
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
  // Before any schema or service sees the input: PostgreSQL cannot store a NUL, and no field of
  // this API means a control character — refused alike on both databases, naming the field.
  // Added before the auth plugin, whose own preValidation hook looks the {org} parameter up.
  server.addHook('preValidation', async (request) => {
    for (const [part, value] of [
      ['body', request.body],
      ['query', request.query],
      ['params', request.params],
    ] as const) {
      const field = controlCharacterAt(value);
      if (field !== undefined) {
        const name = field || part;
        throw invalid(name, `${name} contains a control character (such as NUL), which no field accepts.`);
      }
    }
  });
  await server.register(authPlugin, { app });
  server.setErrorHandler(errorHandler);
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
      await api.register(searchRoutes, { app });
      api.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () =>
        server.swagger(),
      );
    },
    { prefix: '/api/v1' },
  );
  await server.register(jobRoutes, { app });
  await registerConsole(server, { root: CONSOLE_ROOT });
  return server;
}

/**
 * The path (`a.b[2]`, '' for the value itself) of the first string, key or value, holding a
 * control character. Walked with a stack of its own, and the path spelled only for that string: a
 * body within the size limit can nest 100,000 levels deep, past the call stack of a recursive walk.
 */
function controlCharacterAt(value: unknown): string | undefined {
  interface Node {
    value: unknown;
    key: string | number | undefined;
    parent: Node | undefined;
  }
  const pathOf = (node: Node): string => {
    const keys: (string | number)[] = [];
    for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
    return keys
      .reverse()
      .reduce<string>(
        (spelled, key) =>
          typeof key === 'number' ? `${spelled}[${key}]` : spelled ? `${spelled}.${key}` : key,
        '',
      );
  };
  const pending: Node[] = [{ value, key: undefined, parent: undefined }];
  for (let node = pending.pop(); node; node = pending.pop()) {
    const here = node.value;
    if (typeof here === 'string') {
      if (hasControlCharacter(here)) return pathOf(node);
    } else if (Array.isArray(here)) {
      for (let i = here.length - 1; i >= 0; i--) pending.push({ value: here[i], key: i, parent: node });
    } else if (here && typeof here === 'object') {
      // Pushed in reverse, so each key is looked at just before its value, in the order sent.
      for (const [key, item] of Object.entries(here).reverse()) {
        pending.push({ value: item, key, parent: node }, { value: key, key, parent: node });
      }
    }
  }
  return undefined;
}

/**
 * No part of a request is coerced. A JSON body says what type each value is, so it is taken as
 * sent: `true` is not the seat count 1 nor `"10"` the number 10 — a wrong type is refused, never
 * coerced and saved. Query strings, path parameters and headers are text: `readingText` turns the
 * text of a number or a boolean into one, by rules of its own (Ajv's coercion would take
 * "Infinity" or "1e400" for an integer within any bounds), before the same checks.
 */
const strictTypes = new Ajv({
  removeAdditional: false,
  coerceTypes: false,
  useDefaults: true,
  allErrors: false,
});

/** `0` or a whole number without sign, leading zeros, exponent or spaces, as URLs write one. */
const INTEGER_TEXT = /^(0|-?[1-9][0-9]*)$/;

/**
 * Validates text fields (query, params, headers) after reading those declared `integer` or
 * `boolean`: an integer only from INTEGER_TEXT within 2^53 (past it a number no longer holds the
 * digits sent), a boolean only from `true` or `false`. Any other text stays text, which the schema
 * then refuses as not an integer or not a boolean.
 */
function readingText(validate: ValidateFunction, schema: unknown) {
  const declared = new Map<string, unknown>();
  const collect = (part: { properties?: Record<string, { type?: unknown }>; allOf?: unknown[] }) => {
    for (const [name, property] of Object.entries(part.properties ?? {})) declared.set(name, property.type);
    for (const member of part.allOf ?? []) collect(member as typeof part);
  };
  collect(schema as Parameters<typeof collect>[0]);
  const check = (data: unknown): boolean => {
    const fields = (data ?? {}) as Record<string, unknown>;
    for (const [name, type] of declared) {
      const text = fields[name];
      if (typeof text !== 'string') continue;
      if (type === 'integer' && INTEGER_TEXT.test(text) && Number.isSafeInteger(Number(text)))
        fields[name] = Number(text);
      else if (type === 'boolean' && (text === 'true' || text === 'false')) fields[name] = text === 'true';
    }
    const valid = validate(data) as boolean;
    // Fastify reads the errors of a failed check from the function it was given.
    check.errors = validate.errors;
    return valid;
  };
  check.errors = null as ValidateFunction['errors'];
  return check;
}

/**
 * Every error becomes {error: {code, message, field?, fields?}} with the status its code stands for;
 * `fields` lists every field's refusal when a form was checked whole (the first is `field`/`message`).
 */
function errorHandler(
  // Application and Graph errors arrive here too: errorResponse answers them first.
  error: FastifyError,
  _request: unknown,
  reply: import('fastify').FastifyReply,
) {
  const known = errorResponse(error);
  if (known) return reply.status(known.status).send({ error: known.body });
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
  return reply.status(500).send({ error: INTERNAL_ERROR });
}
