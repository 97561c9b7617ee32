import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import { exportJWK, type JWK, jwtVerify, SignJWT } from 'jose';
import { isDomainName } from './domains.js';
import type { HostNames } from './hosts.js';
import type { EmulatorApp, TenantStore } from './tenant.js';

/** Microsoft Graph's well-known application id, also accepted as a scope resource. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

/** A token endpoint answer: status, headers and the JSON body. */
export interface IdentityResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Claims the Graph side needs from a verified access token. */
export interface TokenClaims {
  appId: string;
  tenantId: string;
  roles: string[];
}

function stamp(d = new Date()): string {
  return d
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** Object id of an app's service principal, stable per client id. */
function spObjectId(clientId: string): string {
  const h = createHash('sha256').update(`sp:${clientId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const TENANT_SYNTAX = /^[0-9a-zA-Z-.]+$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The Microsoft identity platform v2.0 endpoints for one emulated tenant. */
export class IdentityService {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;
  private jwk: JWK | null = null;
  private readonly verified = new Map<string, TokenClaims & { exp: number }>();
  private readonly tokenWindow = new Map<string, number[]>();

  constructor(
    private readonly store: TenantStore,
    private readonly hosts: HostNames,
    private readonly opts: { tokenLifetimeSeconds: number; tokenRequestsPer10s: number },
  ) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.kid = createHash('sha256').update(randomUUID()).digest('base64url').slice(0, 27);
  }

  /** Graph roots accepted as the scope resource and token audience. */
  audiences(): string[] {
    return [...this.hosts.graphResources(), GRAPH_APP_ID];
  }

  private error(
    origin: string,
    status: number,
    error: string,
    code: number,
    text: string,
    headers: Record<string, string> = {},
  ): IdentityResponse {
    const traceId = randomUUID();
    const correlationId = randomUUID();
    const ts = stamp();
    return {
      status,
      headers,
      body: {
        error,
        error_description: `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${ts}`,
        error_codes: [code],
        timestamp: ts,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${origin}/error?code=${code}`,
      },
    };
  }

  /**
   * A transient token-endpoint failure: 429 is the throttling answer (AADSTS90055 with
   * Retry-After, as above `tokenRequestsPer10s`), any other status `temporarily_unavailable`
   * ("The server is temporarily too busy to handle the request", reference-error-codes) with
   * AADSTS50033 RetryableError. `error` replaces the OAuth error value.
   */
  transientError(
    origin: string,
    status: number,
    retryAfter: string | undefined,
    error?: string,
  ): IdentityResponse {
    const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
    if (status === 429) {
      return this.error(
        origin,
        429,
        error ?? 'invalid_request',
        90055,
        'TenantThrottlingError - There are too many incoming requests. This exception is thrown for blocked tenants.',
        headers,
      );
    }
    return this.error(
      origin,
      status,
      error ?? 'temporarily_unavailable',
      50033,
      'RetryableError - Indicates a transient error not related to the database operations.',
      headers,
    );
  }

  /** Checks the {tenant} path segment; returns an error response when it is malformed or unknown. */
  resolveTenant(origin: string, tenant: string): IdentityResponse | null {
    const isGuid = GUID.test(tenant);
    if (!TENANT_SYNTAX.test(tenant) || (!isGuid && !isDomainName(tenant))) {
      return this.error(
        origin,
        400,
        'invalid_request',
        900023,
        `Specified tenant identifier '${tenant}' is neither a valid DNS name, nor a valid external domain.`,
      );
    }
    if (tenant === '00000000-0000-0000-0000-000000000000') {
      return this.error(
        origin,
        400,
        'invalid_tenant',
        90002,
        "Requested tenant identifier '00000000-0000-0000-0000-000000000000' is not valid. Tenant identifiers may not be an empty GUID.",
      );
    }
    if (!this.store.matchesTenant(tenant)) {
      return this.error(
        origin,
        400,
        'invalid_tenant',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
      );
    }
    return null;
  }

  /** GET /{tenant}/v2.0/.well-known/openid-configuration */
  openidConfiguration(origin: string, tenant: string): IdentityResponse {
    const bad = this.resolveTenant(origin, tenant);
    if (bad) return bad;
    const o = origin;
    const tid = this.store.tenantId;
    const cloud = this.hosts.cloudFacts();
    return {
      status: 200,
      headers: {},
      body: {
        token_endpoint: `${o}/${tid}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: [
          'client_secret_post',
          'private_key_jwt',
          'client_secret_basic',
        ],
        jwks_uri: `${o}/${tid}/discovery/v2.0/keys`,
        response_modes_supported: ['query', 'fragment', 'form_post'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        issuer: `${o}/${tid}/v2.0`,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${o}/oidc/userinfo`,
        authorization_endpoint: `${o}/${tid}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${o}/${tid}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${o}/${tid}/oauth2/v2.0/logout`,
        claims_supported: [
          'sub',
          'iss',
          'aud',
          'exp',
          'iat',
          'auth_time',
          'acr',
          'nonce',
          'tid',
          'ver',
          'roles',
        ],
        kerberos_endpoint: `${o}/${tid}/kerberos`,
        tenant_region_scope: cloud.region,
        cloud_instance_name: cloud.instance,
        cloud_graph_host_name: 'graph.windows.net',
        msgraph_host: new URL(this.hosts.graphOrigin).host,
        rbac_url: 'https://pas.windows.net',
      },
    };
  }

  /** GET /{tenant}/discovery/v2.0/keys */
  async jwks(origin: string, tenant: string): Promise<IdentityResponse> {
    const bad = this.resolveTenant(origin, tenant);
    if (bad) return bad;
    if (!this.jwk) this.jwk = { ...(await exportJWK(this.publicKey)), kid: this.kid, use: 'sig', kty: 'RSA' };
    return {
      status: 200,
      headers: {},
      body: { keys: [{ ...this.jwk, issuer: `${origin}/${this.store.tenantId}/v2.0` }] },
    };
  }

  /** Instance discovery, for clients configured without knownAuthorities. */
  instanceDiscovery(origin: string): IdentityResponse {
    const host = new URL(origin).host;
    return {
      status: 200,
      headers: {},
      body: {
        tenant_discovery_endpoint: `${origin}/${this.store.tenantId}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [
          { preferred_network: host, preferred_cache: host, aliases: this.hosts.loginAliases(host) },
        ],
      },
    };
  }

  private throttled(clientId: string): boolean {
    const now = Date.now();
    const list = (this.tokenWindow.get(clientId) ?? []).filter((t) => now - t < 10_000);
    list.push(now);
    this.tokenWindow.set(clientId, list);
    return list.length > this.opts.tokenRequestsPer10s;
  }

  /** POST /{tenant}/oauth2/v2.0/token (client credentials only). */
  async token(
    origin: string,
    tenant: string,
    form: URLSearchParams,
    authorization: string | undefined,
  ): Promise<IdentityResponse> {
    const bad = this.resolveTenant(origin, tenant);
    if (bad) return bad;
    let clientId = form.get('client_id');
    let secret = form.get('client_secret');
    if (authorization?.toLowerCase().startsWith('basic ')) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const grant = form.get('grant_type');
    if (!grant) {
      return this.error(
        origin,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    }
    if (grant !== 'client_credentials') {
      return this.error(
        origin,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${grant}'.`,
      );
    }
    if (!clientId) {
      return this.error(
        origin,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'client_id'.",
      );
    }
    const app = this.store.findApp(clientId);
    if (!app) {
      return this.error(
        origin,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${clientId}' was not found in the directory '${this.store.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      );
    }
    if (this.throttled(app.clientId)) return this.transientError(origin, 429, '60');
    if (!secret) {
      return this.error(
        origin,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    }
    if (secret !== app.clientSecret) {
      return this.error(
        origin,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
    if (app.secretExpired) {
      return this.error(
        origin,
        401,
        'invalid_client',
        7000222,
        `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
      );
    }
    const scope = form.get('scope');
    if (!scope)
      return this.error(
        origin,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'scope'.",
      );
    const scopes = scope.split(/\s+/).filter(Boolean);
    const resources = new Set(scopes.map((s) => s.replace(/\/[^/]*$/, '')));
    if (resources.size > 1) {
      return this.error(
        origin,
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
      );
    }
    const single = scopes[0]!;
    if (scopes.length > 1 || !single.endsWith('/.default')) {
      return this.error(
        origin,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const resource = single.slice(0, -'/.default'.length).replace(/\/$/, '');
    if (!this.audiences().includes(resource)) {
      return this.error(
        origin,
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${resource} was not found in the tenant named ${this.store.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
      );
    }
    return {
      status: 200,
      headers: {},
      body: await this.issue(app, resource === GRAPH_APP_ID ? this.hosts.graphOrigin : resource),
    };
  }

  private async issue(app: EmulatorApp, audience: string): Promise<Record<string, unknown>> {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = this.opts.tokenLifetimeSeconds;
    const tid = this.store.tenantId;
    const oid = spObjectId(app.clientId);
    const claims: Record<string, unknown> = {
      aio: randomUUID().replace(/-/g, ''),
      app_displayname: app.displayName,
      appid: app.clientId,
      appidacr: '1',
      idp: `https://sts.windows.net/${tid}/`,
      idtyp: 'app',
      oid,
      rh: '0.AAAA',
      sub: oid,
      tenant_region_scope: 'EU',
      tid,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
      xms_tcdt: now - 86400 * 365,
    };
    // An app without admin consent still gets a token, just without the roles claim (docs/graph-facts.md §1.6).
    if (app.roles.length > 0) claims.roles = [...app.roles];
    const jwt = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.kid, x5t: this.kid })
      .setAudience(audience)
      .setIssuer(`https://sts.windows.net/${tid}/`)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(this.privateKey);
    return { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: jwt };
  }

  /** Verifies a bearer token for Graph; returns claims or the 401 message Graph would send. */
  async verify(token: string): Promise<TokenClaims | { error: string }> {
    const hit = this.verified.get(token);
    if (hit) {
      if (hit.exp * 1000 < Date.now()) return { error: 'Access token has expired or is not yet valid.' };
      return hit;
    }
    if (token.split('.').length !== 3)
      return { error: 'IDX14100: JWT is not well formed, there are no dots (.).' };
    try {
      const { payload } = await jwtVerify(token, this.publicKey, { algorithms: ['RS256'] });
      if (!this.audiences().includes(String(payload.aud)))
        return { error: 'Access token validation failure. Invalid audience.' };
      if (payload.tid !== this.store.tenantId)
        return { error: 'Access token validation failure. Invalid issuer.' };
      const claims = {
        appId: String(payload.appid),
        tenantId: String(payload.tid),
        roles: Array.isArray(payload.roles) ? payload.roles.map(String) : [],
        exp: Number(payload.exp),
      };
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.set(token, claims);
      return claims;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED' || code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
        return { error: 'Access token has expired or is not yet valid.' };
      }
      return { error: 'Access token validation failure.' };
    }
  }
}
