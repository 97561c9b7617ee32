import { readFileSync } from 'node:fs';
import { ServerError } from '@azure/msal-node';
import { describe, expect, it } from 'vitest';
import { translateGraphResponse } from '../../src/graph/client.js';
import { adminConsentUrl, CLOUDS, resolveEndpoints } from '../../src/graph/clouds.js';
import { validateConnection } from '../../src/graph/connector.js';
import {
  GRAPH_ERROR_CODES,
  GRAPH_ERRORS,
  GraphError,
  missingPermissions,
  permissionDeniedHint,
  redact,
} from '../../src/graph/errors.js';
import { decodeJwtPayload, tokenInfo, translateTokenError } from '../../src/graph/token.js';
import { errorTableRows } from '../support/docs.js';
import { fakeToken } from './support/https-stub.js';

const documentedCodes = () => [...errorTableRows('Entra connection errors').keys()];

describe('error catalog', () => {
  it('docs/errors.md lists exactly the catalog codes', () => {
    expect(documentedCodes().sort()).toEqual([...GRAPH_ERROR_CODES].sort());
  });

  it('every code has a sentence the docs repeat', () => {
    const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const code of GRAPH_ERROR_CODES) expect(text).toContain(GRAPH_ERRORS[code].sentence);
  });

  it('GraphError carries code, detail and the catalog hint by default', () => {
    const e = new GraphError(
      'invalid_secret',
      '[invalid_client] AADSTS7000215: Invalid client secret provided.',
    );
    expect(e).toMatchObject({
      code: 'invalid_secret',
      hint: GRAPH_ERRORS.invalid_secret.sentence,
      retryable: false,
    });
    expect(e.message).toContain('AADSTS7000215');
  });

  it('redacts a secret from any text', () => {
    expect(redact('value s3cr3t-Value was sent', 's3cr3t-Value')).toBe('value *** was sent');
  });
});

describe('permissions and consent', () => {
  const consent = adminConsentUrl(
    'global',
    'contoso.onmicrosoft.com',
    '11111111-2222-3333-4444-555555555555',
  );

  it('builds the v2 admin-consent link for the tenant and client', () => {
    expect(consent).toBe(
      'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/adminconsent?client_id=11111111-2222-3333-4444-555555555555&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default',
    );
    expect(adminConsentUrl('usgov-dod', 't', 'c')).toContain(
      'https://login.microsoftonline.us/t/v2.0/adminconsent',
    );
    expect(adminConsentUrl('usgov-dod', 't', 'c')).toContain(
      encodeURIComponent('https://dod-graph.microsoft.us/.default'),
    );
    expect(
      adminConsentUrl(
        { authorityHost: 'https://127.0.0.1:8443/', graphUrl: 'https://127.0.0.1:8443' },
        't',
        'c',
      ),
    ).toMatch(/^https:\/\/127\.0\.0\.1:8443\/t\/v2\.0\/adminconsent\?/);
  });

  it('knows which permissions cover the sync', () => {
    expect(missingPermissions([])).toEqual(['User.Read.All', 'GroupMember.Read.All']);
    expect(missingPermissions(['User.Read.All'])).toEqual(['GroupMember.Read.All']);
    expect(missingPermissions(['GroupMember.Read.All'])).toEqual(['User.Read.All']);
    expect(missingPermissions(['User.Read.All', 'Group.Read.All'])).toEqual([]);
    expect(missingPermissions(['Directory.Read.All'])).toEqual([]);
  });

  it('names the missing permissions, admin consent and the link', () => {
    const hint = permissionDeniedHint(['User.Read.All'], consent);
    expect(hint).toContain('missing the Microsoft Graph application permission GroupMember.Read.All');
    expect(hint).toContain('admin consent');
    expect(hint).toContain(consent);
    expect(permissionDeniedHint([], consent)).toMatch(
      /no application permissions.*admin consent has not been granted/,
    );
    expect(permissionDeniedHint(undefined, consent)).toContain(
      'User.Read.All and GroupMember.Read.All (or Directory.Read.All)',
    );
  });

  it('decodes roles and tid from a token without verifying it', () => {
    const token = fakeToken({ tid: 'abc', roles: ['User.Read.All'] });
    expect(tokenInfo(token)).toEqual({ roles: ['User.Read.All'], tenantId: 'abc' });
    expect(tokenInfo(fakeToken({ tid: 'abc' }))).toEqual({ roles: [], tenantId: 'abc' });
    expect(decodeJwtPayload('opaque')).toBeUndefined();
    expect(decodeJwtPayload('a.!!!.c')).toBeUndefined();
  });
});

describe('translating Graph error responses', () => {
  const res = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
    status,
    headers: { 'request-id': 'rid', ...headers },
    text: typeof body === 'string' ? body : JSON.stringify(body),
    clientRequestId: 'cid',
  });
  const usersDelta = { url: 'https://graph.microsoft.com/v1.0/users/delta?$select=id', what: 'users delta' };
  const deltaLink = {
    url: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=d1',
    what: 'users delta',
  };
  const nextLink = { url: 'https://graph.microsoft.com/v1.0/users/delta?$skiptoken=p2', what: 'users delta' };
  const usersList = { url: 'https://graph.microsoft.com/v1.0/users?$top=1', what: 'users probe' };
  const denied = {
    error: {
      code: 'Authorization_RequestDenied',
      message: 'Insufficient privileges to complete the operation.',
      innerError: { date: '2025-02-13T10:17:06', 'request-id': 'rid', 'client-request-id': 'cid' },
    },
  };

  it('403 Authorization_RequestDenied → permission_denied with the exact Microsoft text and the given hint', () => {
    const e = translateGraphResponse(res(403, denied), usersDelta, () => 'grant it');
    expect(e).toMatchObject({
      code: 'permission_denied',
      detail: '[Authorization_RequestDenied] Insufficient privileges to complete the operation.',
      hint: 'grant it',
      status: 403,
      requestId: 'rid',
    });
  });

  const body = (code: string, inner?: object) => ({ error: { code, message: 'm', innerError: inner } });

  it('expired or reset delta tokens → delta_expired (400 syncStateNotFound, nested resyncRequired, 410)', () => {
    const expired = {
      error: {
        code: 'syncStateNotFound',
        message:
          'The sync state generation is not found. The delta token is expired and data must be synchronized again.',
      },
    };
    expect(translateGraphResponse(res(400, expired), deltaLink).code).toBe('delta_expired');
    expect(
      translateGraphResponse(res(400, body('BadRequest', { code: 'resyncRequired' })), deltaLink).code,
    ).toBe('delta_expired');
    expect(
      translateGraphResponse(
        res(410, '', { location: 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=' }),
        deltaLink,
      ).code,
    ).toBe('delta_expired');
  });

  it.each([
    ['SyncStateNotFound (capital S, seen on real Graph)', 400, body('SyncStateNotFound')],
    ['SYNCSTATENOTFOUND', 400, body('SYNCSTATENOTFOUND')],
    ['syncStateInvalid', 400, body('syncStateInvalid')],
    [
      'nested innererror ResyncRequired',
      400,
      { error: { code: 'BadRequest', innererror: { code: 'ResyncRequired' } } },
    ],
    ['410 SyncStateNotFound', 410, body('SyncStateNotFound')],
    ['404 syncStateNotFound', 404, body('syncStateNotFound')],
    ['Directory_ExpiredPageToken on the stored delta link', 400, body('Directory_ExpiredPageToken')],
  ])('delta link answered %s → delta_expired', (_name, status, answer) => {
    expect(translateGraphResponse(res(status, answer), deltaLink).code).toBe('delta_expired');
  });

  it('a sync-state code on a delta round nextLink is delta_expired too', () => {
    expect(translateGraphResponse(res(400, body('SyncStateNotFound')), nextLink).code).toBe('delta_expired');
  });

  it.each([
    ['an unrelated 400 on the delta link', 400, body('Request_BadRequest'), deltaLink],
    [
      'a 400 whose message, not code, speaks of sync state',
      400,
      { error: { code: 'BadRequest', message: 'syncStateNotFound' } },
      deltaLink,
    ],
    ['a sync-state code with HTTP 500', 500, body('syncStateNotFound'), deltaLink],
    ['a sync-state code on a plain list', 400, body('syncStateNotFound'), usersList],
    ['a 410 on a plain list', 410, body('Gone'), usersList],
  ])('%s is not delta_expired', (_name, status, answer, request) => {
    expect(translateGraphResponse(res(status, answer), request).code).not.toBe('delta_expired');
  });

  it('Directory_ExpiredPageToken on a nextLink (any case, nested too) → page_expired', () => {
    expect(translateGraphResponse(res(400, body('Directory_ExpiredPageToken')), nextLink).code).toBe(
      'page_expired',
    );
    expect(
      translateGraphResponse(res(400, body('BadRequest', { code: 'directory_expiredPageToken' })), usersList)
        .code,
    ).toBe('page_expired');
    expect(translateGraphResponse(res(403, body('Directory_ExpiredPageToken')), nextLink).code).toBe(
      'permission_denied',
    );
  });

  it('maps 401, 429, 503 and others', () => {
    expect(translateGraphResponse(res(401, body('InvalidAuthenticationToken')), usersList).code).toBe(
      'token_rejected',
    );
    expect(translateGraphResponse(res(429, body('TooManyRequests')), usersList).code).toBe('throttled');
    expect(translateGraphResponse(res(503, body('serviceNotAvailable')), usersList).code).toBe(
      'service_unavailable',
    );
    const other = translateGraphResponse(res(400, body('Request_UnsupportedQuery')), usersDelta);
    expect(other).toMatchObject({ code: 'graph_error' });
    expect(other.detail).toContain('[Request_UnsupportedQuery] m (HTTP 400 from users delta)');
    expect(translateGraphResponse(res(500, '<html>oops</html>'), usersList).detail).toContain(
      '<html>oops</html>',
    );
  });
});

describe('translating token errors (MSAL ServerError as it builds them from Entra responses)', () => {
  const server = (error: string, aadsts: string, description: string, status: number) =>
    new ServerError(
      error,
      'corr',
      `Error(s): ${aadsts} - Timestamp: 2025-01-01 00:00:00Z - Description: ${description}\r\nTrace ID: t\r\nCorrelation ID: c\r\nTimestamp: x - Correlation ID: c - Trace ID: t`,
      '',
      aadsts,
      status,
    );

  it.each([
    ['invalid_client', '7000215', 401, 'invalid_secret'],
    ['invalid_client', '7000222', 401, 'expired_secret'],
    ['unauthorized_client', '700016', 400, 'unknown_client'],
    ['invalid_client', '7000229', 400, 'no_service_principal'],
    ['invalid_tenant', '90002', 400, 'unknown_tenant'],
    ['invalid_request', '900023', 400, 'malformed_tenant'],
    ['invalid_request', '900382', 400, 'wrong_cloud'],
    ['invalid_client', '9999999', 401, 'invalid_secret'],
    ['temporarily_unavailable', '', 503, 'service_unavailable'],
    ['', '', 429, 'throttled'],
    ['invalid_scope', '70011', 400, 'auth_error'],
  ])('%s AADSTS%s (HTTP %s) → %s', (error, aadsts, status, code) => {
    const e = translateTokenError(server(error, aadsts, `AADSTS${aadsts}: something happened.`, status));
    expect(e.code).toBe(code);
    expect(e.detail).toBe(`[${error}] AADSTS${aadsts}: something happened.`);
  });

  it('never lets the secret through', () => {
    const e = translateTokenError(
      server('invalid_client', '7000215', 'secret was hunter2-secret', 401),
      'hunter2-secret',
    );
    expect(e.detail).not.toContain('hunter2-secret');
  });
});

describe('connection validation', () => {
  const ok = {
    tenant: 'contoso.onmicrosoft.com',
    clientId: '11111111-2222-3333-4444-555555555555',
    clientSecret: 's',
    cloud: 'global' as const,
  };
  it('accepts domains and GUIDs, rejects the rest with the field to fix', () => {
    expect(validateConnection(ok)).toBeUndefined();
    expect(validateConnection({ ...ok, tenant: '72f988bf-86f1-41af-91ab-2d7cd011db47' })).toBeUndefined();
    expect(validateConnection({ ...ok, tenant: 'contoso com' })?.code).toBe('malformed_tenant');
    expect(validateConnection({ ...ok, tenant: 'common' })?.code).toBe('malformed_tenant');
    expect(validateConnection({ ...ok, clientId: 'my-app' })?.code).toBe('invalid_config');
    expect(validateConnection({ ...ok, clientSecret: '' })?.code).toBe('invalid_config');
    expect(validateConnection({ ...ok, authorityHost: 'http://127.0.0.1:1' })?.detail).toContain(
      'authority host',
    );
    expect(validateConnection({ ...ok, graphUrl: 'https://graph.example/v1.0' })?.detail).toContain(
      'Graph URL',
    );
  });

  it('resolves cloud endpoints with overrides', () => {
    expect(resolveEndpoints('china')).toEqual(CLOUDS.china);
    expect(resolveEndpoints('global', { graphUrl: 'https://127.0.0.1:9/' })).toEqual({
      authorityHost: 'https://login.microsoftonline.com',
      graphUrl: 'https://127.0.0.1:9',
    });
  });
});
