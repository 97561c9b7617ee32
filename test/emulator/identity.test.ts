/**
 * Identity conformance: Microsoft's own MSAL Node against the emulator's v2.0 endpoints, changed
 * only by configuration (authority, knownAuthorities / authorityMetadata, network client with the CA).
 */
import { ServerError } from '@azure/msal-node';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { graphGet, msalClient, trustingAgent } from './support.js';

let emu: Emulator;
let agent: ReturnType<typeof trustingAgent>;
const scope = () => [`${emu.info.graphBaseUrl}/.default`];

beforeAll(async () => {
  emu = await startEmulator({ users: 30, groups: 4, seed: 11 });
  agent = trustingAgent(emu);
});
afterAll(() => emu?.close());

async function serverError(p: Promise<unknown>): Promise<ServerError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ServerError);
  return err as ServerError;
}

describe('token acquisition with MSAL Node', () => {
  it('gets a token by tenant GUID and by every verified domain, discovering the OIDC metadata', async () => {
    const app = emu.info.apps[0]!;
    for (const tenant of [emu.info.tenantId, ...emu.info.tenantDomains]) {
      const seen: string[] = [];
      const cca = msalClient(emu, app, { tenant, agent, seen });
      const res = await cca.acquireTokenByClientCredential({ scopes: scope() });
      expect(res?.accessToken).toMatch(/^ey/);
      expect(res?.tokenType).toBe('Bearer');
      expect(seen[0]).toBe(`GET ${emu.info.authorityHost}/${tenant}/v2.0/.well-known/openid-configuration`);
      // MSAL posts to the configured authority path with client-request-id in the query string.
      expect(seen[1]).toMatch(
        new RegExp(`^POST ${emu.info.authorityHost}/${tenant}/oauth2/v2.0/token\\?client-request-id=`),
      );
    }
  });

  it('skips discovery when authorityMetadata is given, and accepts the graph.microsoft.com scope', async () => {
    const seen: string[] = [];
    const cca = msalClient(emu, emu.info.apps[0]!, { agent, metadata: true, seen });
    const res = await cca.acquireTokenByClientCredential({
      scopes: ['https://graph.microsoft.com/.default'],
    });
    expect(seen).toHaveLength(1);
    expect(decodeJwt(res!.accessToken).aud).toBe('https://graph.microsoft.com');
  });

  it('issues RS256 JWTs verifiable with jwks_uri, carrying tid, appid, aud, iss, exp and the granted roles', async () => {
    const app = emu.info.apps[0]!;
    const cca = msalClient(emu, app, { agent });
    const res = await cca.acquireTokenByClientCredential({ scopes: scope() });
    const oidc = (await (
      await fetch(
        `${emu.info.authorityHost}/${emu.info.tenantDomains[0]}/v2.0/.well-known/openid-configuration`,
        {
          dispatcher: agent,
        },
      )
    ).json()) as { issuer: string; jwks_uri: string; token_endpoint: string };
    expect(oidc.issuer).toBe(`${emu.info.authorityHost}/${emu.info.tenantId}/v2.0`);
    expect(oidc.token_endpoint).toContain(emu.info.tenantId);
    const jwks = (await (await fetch(oidc.jwks_uri, { dispatcher: agent })).json()) as Parameters<
      typeof createLocalJWKSet
    >[0];
    const { payload, protectedHeader } = await jwtVerify(res!.accessToken, createLocalJWKSet(jwks));
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.tid).toBe(emu.info.tenantId);
    expect(payload.appid).toBe(app.clientId);
    expect(payload.aud).toBe(emu.info.graphBaseUrl);
    expect(payload.iss).toBe(`https://sts.windows.net/${emu.info.tenantId}/`);
    expect(payload.roles).toEqual([
      'User.Read.All',
      'GroupMember.Read.All',
      'MailboxSettings.Read',
      'Domain.Read.All',
    ]);
    expect(payload.exp! * 1000).toBeGreaterThan(Date.now() + 3000_000);
  });

  it('issues a token without roles to an app lacking admin consent; Graph then answers 403 exactly', async () => {
    const app = emu.info.apps.find((a) => a.displayName === 'entrasync-no-consent')!;
    const res = await msalClient(emu, app, { agent }).acquireTokenByClientCredential({ scopes: scope() });
    expect(decodeJwt(res!.accessToken).roles).toBeUndefined();
    const r = await graphGet(emu, agent, res!.accessToken, '/users?$top=1&$select=id', {
      'client-request-id': 'abc-123',
    });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('Authorization_RequestDenied');
    expect(r.body.error.message).toBe('Insufficient privileges to complete the operation.');
    expect(r.body.error.innerError['client-request-id']).toBe('abc-123');
    expect(r.body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body.error.innerError.date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it('answers each credential failure with the AADSTS code MSAL surfaces as ServerError', async () => {
    const [sync, , expired] = emu.info.apps as [
      (typeof emu.info.apps)[0],
      unknown,
      (typeof emu.info.apps)[0],
    ];
    const cases: Array<{
      app: { clientId: string; clientSecret: string };
      tenant?: string;
      scopes?: string[];
      code: string;
      no: string;
      status: number;
    }> = [
      {
        app: { clientId: sync.clientId, clientSecret: 'wrong' },
        code: 'invalid_client',
        no: '7000215',
        status: 401,
      },
      { app: expired, code: 'invalid_client', no: '7000222', status: 401 },
      {
        app: { clientId: '11111111-2222-4333-8444-555555555555', clientSecret: 'x' },
        code: 'unauthorized_client',
        no: '700016',
        status: 400,
      },
      { app: sync, tenant: 'nosuchtenant.example.com', code: 'invalid_tenant', no: '90002', status: 400 },
      {
        app: sync,
        tenant: '00000000-0000-0000-0000-000000000000',
        code: 'invalid_tenant',
        no: '90002',
        status: 400,
      },
      { app: sync, tenant: 'not_a_domain', code: 'invalid_request', no: '900023', status: 400 },
      { app: sync, scopes: ['User.Read.All'], code: 'invalid_scope', no: '1002012', status: 400 },
      {
        app: sync,
        scopes: ['https://unknown.example/.default'],
        code: 'invalid_resource',
        no: '500011',
        status: 400,
      },
    ];
    for (const c of cases) {
      const cca = msalClient(emu, c.app, { tenant: c.tenant, agent, metadata: true });
      const err = await serverError(cca.acquireTokenByClientCredential({ scopes: c.scopes ?? scope() }));
      expect({ code: err.errorCode, no: String(err.errorNo), status: err.status }).toEqual({
        code: c.code,
        no: c.no,
        status: c.status,
      });
      expect(err.errorMessage).toContain(`AADSTS${c.no}`);
    }
  });

  it('accepts the secret by HTTP Basic auth and tolerates MSAL-style extra form fields', async () => {
    const app = emu.info.apps[0]!;
    const res = await fetch(
      `${emu.info.authorityHost}/${emu.info.tenantDomains[1]}/oauth2/v2.0/token?client-request-id=42`,
      {
        method: 'POST',
        dispatcher: agent,
        headers: {
          authorization: `Basic ${Buffer.from(`${app.clientId}:${encodeURIComponent(app.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          scope: `${emu.info.graphBaseUrl}/.default`,
          'x-client-SKU': 'msal.js.node',
          'x-ms-lib-capability': 'retry-after, h429',
        }),
      },
    );
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
  });

  it('answers unknown tenants at discovery with 400 invalid_tenant 90002', async () => {
    const res = await fetch(
      `${emu.info.authorityHost}/nosuch.example.org/v2.0/.well-known/openid-configuration`,
      { dispatcher: agent },
    );
    const body = (await res.json()) as { error: string; error_codes: number[]; error_description: string };
    expect(res.status).toBe(400);
    expect(body.error).toBe('invalid_tenant');
    expect(body.error_codes).toEqual([90002]);
    expect(body.error_description).toMatch(/^AADSTS90002: Tenant 'nosuch.example.org' not found\./);
  });
});

describe('token endpoint throttling', () => {
  it('answers 429 with Retry-After: 60 once an app exceeds its token request rate', async () => {
    const small = await startEmulator({ users: 5, groups: 1, tokenRequestsPer10s: 2 });
    try {
      const a = trustingAgent(small);
      const app = small.info.apps[0]!;
      for (let i = 0; i < 2; i++) {
        // A fresh client each time: MSAL caches tokens and remembers 429s per instance.
        await msalClient(small, app, { agent: a, metadata: true }).acquireTokenByClientCredential({
          scopes: [`${small.info.graphBaseUrl}/.default`],
        });
      }
      const seen: string[] = [];
      const err = await serverError(
        msalClient(small, app, { agent: a, metadata: true, seen }).acquireTokenByClientCredential({
          scopes: [`${small.info.graphBaseUrl}/.default`],
        }),
      );
      expect(err.status).toBe(429);
      // msal-node 7.2.3 types errorNo as a string but passes error_codes[0] through as a number.
      expect(String(err.errorNo)).toBe('90055');
      const raw = await fetch(`${small.info.authorityHost}/${small.info.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        dispatcher: a,
        body: new URLSearchParams({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          grant_type: 'client_credentials',
          scope: `${small.info.graphBaseUrl}/.default`,
        }),
      });
      expect(raw.status).toBe(429);
      expect(raw.headers.get('retry-after')).toBe('60');
    } finally {
      await small.close();
    }
  });
});
