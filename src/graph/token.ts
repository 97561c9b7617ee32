/**
 * App-only tokens from the Microsoft identity platform through MSAL Node: one
 * ConfidentialClientApplication per connection, its requests sent through our transport (so the
 * extra CA, retries and client-request-id apply), tokens reused until five minutes before expiry.
 */
import {
  AuthError,
  ConfidentialClientApplication,
  type INetworkModule,
  LogLevel,
  type NetworkRequestOptions,
  type NetworkResponse,
  ServerError,
} from '@azure/msal-node';
import { graphScope } from './clouds.js';
import { GraphError, type GraphErrorCode, redact } from './errors.js';
import type { Transport } from './transport.js';

/** Renew this long before `expires_in` runs out (Microsoft: tokens live 60–90 minutes, trust expires_in). */
const RENEW_BEFORE_MS = 5 * 60_000;

/** Carries our GraphError through MSAL, which rethrows AuthErrors unchanged but flattens others. */
class TransportAuthError extends AuthError {
  constructor(readonly graphError: GraphError) {
    super('entrasync_transport', '', graphError.detail);
    // AuthError resets the prototype to its own (for ES5 targets); restore ours so instanceof works.
    Object.setPrototypeOf(this, TransportAuthError.prototype);
  }
}

/** MSAL's network module backed by our transport. */
class MsalNetwork implements INetworkModule {
  constructor(private readonly transport: Transport) {}

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> {
    let res: Awaited<ReturnType<Transport['send']>>;
    try {
      res = await this.transport.send({
        method,
        url,
        headers: options?.headers ?? {},
        body: options?.body,
        purpose: 'token',
      });
    } catch (error) {
      if (error instanceof GraphError) throw new TransportAuthError(error);
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch (error) {
      const status = res.status;
      throw new TransportAuthError(
        new GraphError(
          'malformed_payload',
          `token endpoint answered HTTP ${status} with a body that is not JSON`,
          {
            status,
            cause: error,
          },
        ),
      );
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

/** The identity-platform error codes (AADSTS numbers) we turn into specific admin advice. */
const AADSTS: Record<string, GraphErrorCode> = {
  '7000215': 'invalid_secret',
  '7000218': 'invalid_secret',
  '7000222': 'expired_secret',
  '700016': 'unknown_client',
  '7000229': 'no_service_principal',
  '90002': 'unknown_tenant',
  '900023': 'malformed_tenant',
  '90038': 'wrong_cloud',
  '900382': 'wrong_cloud',
  '900432': 'wrong_cloud',
  '90055': 'throttled',
};

/** The OAuth `error` values, used when the AADSTS number is unknown to us. */
const OAUTH_ERRORS: Record<string, GraphErrorCode> = {
  invalid_client: 'invalid_secret',
  unauthorized_client: 'unknown_client',
  invalid_tenant: 'unknown_tenant',
  temporarily_unavailable: 'service_unavailable',
};

/** The code for an identity-platform error, from its AADSTS number, HTTP status and OAuth `error`. */
export function identityErrorCode(
  errorNo: string | undefined,
  error: string,
  status: number | undefined,
): GraphErrorCode {
  return (
    (errorNo ? AADSTS[errorNo] : undefined) ??
    (status === 429 ? 'throttled' : undefined) ??
    (status !== undefined && status >= 500 ? 'service_unavailable' : undefined) ??
    OAUTH_ERRORS[error] ??
    'auth_error'
  );
}

/** Pulls Microsoft's description out of MSAL's "Error(s): … - Description: … - Correlation ID: …". */
function describe(error: ServerError): string {
  const match = /Description: ([\s\S]*?)(?: - Correlation ID:| - Trace ID:|$)/.exec(error.errorMessage);
  // Microsoft appends "\r\nTrace ID: …" lines to the description; the first line is the message.
  const text = (match?.[1] ?? error.errorMessage).split(/\r?\n/)[0]?.trim() ?? '';
  return `[${error.errorCode}] ${text}`;
}

/** Translates whatever MSAL threw into a GraphError with a stable code. */
export function translateTokenError(error: unknown, secret?: string): GraphError {
  if (error instanceof GraphError) return error;
  if (error instanceof TransportAuthError) return error.graphError;
  if (error instanceof ServerError) {
    const detail = redact(describe(error), secret);
    const status = typeof error.status === 'number' ? error.status : undefined;
    return new GraphError(identityErrorCode(error.errorNo, error.errorCode, status), detail, {
      status,
      cause: error,
    });
  }
  if (error instanceof AuthError) {
    // Client-side MSAL errors (configuration, a cached throttle, an unparsable response).
    const detail = redact(`[${error.errorCode}] ${error.errorMessage}`, secret);
    if (error.errorCode === '90055') return new GraphError('throttled', detail, { cause: error });
    if (error.name === 'ClientConfigurationError')
      return new GraphError('invalid_config', detail, { cause: error });
    return new GraphError('auth_error', detail, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new GraphError('auth_error', redact(message, secret), { cause: error });
}

/** The claims of a JWT payload, decoded without verification (diagnostics only: Graph tokens are opaque by contract). */
export function decodeJwtPayload(token: string): Record<string, unknown> | undefined {
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return claims && typeof claims === 'object' ? (claims as Record<string, unknown>) : undefined;
  } catch (error) {
    // An unreadable token is legitimate (Microsoft may encrypt it); we only lose the diagnostic.
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** What a token says about the app: its granted application permissions and tenant, when readable. */
export interface TokenInfo {
  roles: string[] | undefined;
  tenantId: string | undefined;
}

/** Reads `roles` and `tid` from an access token (best effort). */
export function tokenInfo(token: string): TokenInfo {
  const claims = decodeJwtPayload(token);
  if (!claims) return { roles: undefined, tenantId: undefined };
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { roles, tenantId: typeof claims.tid === 'string' ? claims.tid : undefined };
}

/** Settings the token source needs. */
export interface TokenSourceConfig {
  authorityHost: string;
  graphUrl: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
}

/** App-only access tokens for one connection. */
export class TokenSource {
  private readonly cca: ConfidentialClientApplication;
  private readonly scope: string;
  private current: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  /** What the last token said (roles, tenant); undefined before the first token. */
  info: TokenInfo | undefined;

  constructor(
    private readonly config: TokenSourceConfig,
    transport: Transport,
    private readonly now: () => number = Date.now,
  ) {
    const authority = `${config.authorityHost}/${config.tenant}`;
    this.scope = graphScope(config.graphUrl);
    this.cca = new ConfidentialClientApplication({
      auth: {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        authority,
        // Listing the host skips MSAL's instance discovery (a call to the global cloud, wrong for
        // national clouds and custom endpoints); the metadata skips the OIDC document GET, so a
        // token costs exactly one POST. The tenant step of diagnose() reads that document itself.
        knownAuthorities: [new URL(config.authorityHost).host],
        authorityMetadata: JSON.stringify({
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          issuer: `${authority}/v2.0`,
          jwks_uri: `${authority}/discovery/v2.0/keys`,
        }),
      },
      system: {
        networkClient: new MsalNetwork(transport),
        // Our transport already retries per our policy; MSAL retrying on top would multiply waits.
        disableInternalRetries: true,
        loggerOptions: {
          logLevel: LogLevel.Error,
          piiLoggingEnabled: false,
          loggerCallback: () => undefined,
        },
      },
    });
  }

  /** A valid access token, from memory while it has more than five minutes left. */
  async get(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    return this.fetch(false);
  }

  /** A new token even if the current one looks valid (Graph rejected it with 401). */
  async renew(): Promise<string> {
    this.current = undefined;
    return this.fetch(true);
  }

  private fetch(skipCache: boolean): Promise<string> {
    // One request in flight at a time: parallel readers share it instead of each asking.
    this.pending ??= this.acquire(skipCache).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async acquire(skipCache: boolean): Promise<string> {
    let result: Awaited<ReturnType<ConfidentialClientApplication['acquireTokenByClientCredential']>>;
    try {
      result = await this.cca.acquireTokenByClientCredential({ scopes: [this.scope], skipCache });
    } catch (error) {
      throw translateTokenError(error, this.config.clientSecret);
    }
    if (!result?.accessToken)
      throw new GraphError('malformed_payload', 'token endpoint returned no access_token');
    const now = this.now();
    const expiresAt = result.expiresOn?.getTime() ?? now + 60 * 60_000;
    // Short-lived tokens (test servers) renew at half-life, so they are not fetched per request.
    const margin = Math.min(RENEW_BEFORE_MS, (expiresAt - now) / 2);
    this.current = { token: result.accessToken, renewAt: expiresAt - margin };
    this.info = tokenInfo(result.accessToken);
    return result.accessToken;
  }
}
