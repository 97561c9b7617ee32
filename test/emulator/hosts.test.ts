/**
 * The emulator under Microsoft's own names. Outside a private network namespace, a client
 * reaches them by resolving every name to 127.0.0.1 itself (undici's `connect.lookup`), which is
 * what /etc/hosts does in the as-Microsoft tier; TLS still checks the name against the
 * certificate, and the Host header still names Microsoft's host.
 */
import type { LookupAddress } from 'node:dns';
import { connect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';

/** An agent that sends every host name to 127.0.0.1 and trusts only the emulator's CA. */
function loopbackAgent(emu: Emulator): Agent {
  const lookup = (
    _host: string,
    options: { all?: boolean },
    callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => (options.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4));
  return new Agent({ connect: { ca: emu.info.caPem, lookup } });
}

describe('the emulator as the US Government cloud', () => {
  let emu: Emulator;
  let agent: Agent;
  let port: string;
  let login: string;
  let graph: string;
  let app: { clientId: string; clientSecret: string };

  const call = async (
    url: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ) => {
    const res = await request(url, { dispatcher: agent, ...init });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
  };
  const token = (scope: string) =>
    call(`${login}/${emu.info.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: app.clientId,
        client_secret: app.clientSecret,
        grant_type: 'client_credentials',
        scope,
      }).toString(),
    });

  beforeAll(async () => {
    // Port 0: a free port, so the names carry it (`https://graph.microsoft.us:PORT`).
    emu = await startEmulator({ users: 30, groups: 3, seed: 5, asMicrosoft: 'usgov', port: 0 });
    agent = loopbackAgent(emu);
    port = new URL(emu.info.adminUrl).port;
    login = `https://login.microsoftonline.us:${port}`;
    graph = `https://graph.microsoft.us:${port}`;
    app = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
  });
  afterAll(async () => {
    await agent?.close();
    await emu?.close();
  });

  it("tells the cloud's names, and its certificate carries them", async () => {
    expect(emu.info).toMatchObject({
      cloud: 'usgov',
      hosts: ['login.microsoftonline.us', 'graph.microsoft.us'],
      authorityHost: login,
      graphBaseUrl: graph,
      adminUrl: `https://127.0.0.1:${port}/_emulator`,
    });
    const names = await new Promise<string>((resolve, reject) => {
      const socket = connect(
        { host: '127.0.0.1', port: Number(port), servername: 'graph.microsoft.us', ca: emu.info.caPem },
        () => {
          resolve(socket.getPeerCertificate().subjectaltname ?? '');
          socket.end();
        },
      );
      socket.once('error', reject);
    });
    expect(names).toContain('DNS:login.microsoftonline.us');
    expect(names).toContain('DNS:graph.microsoft.us');
  });

  it("issues tokens for the cloud's Graph, and refuses the global cloud's", async () => {
    const ok = await token('https://graph.microsoft.us/.default');
    expect(ok.status, ok.text).toBe(200);
    const claims = JSON.parse(Buffer.from(ok.json().access_token.split('.')[1], 'base64url').toString());
    expect(claims.aud).toBe('https://graph.microsoft.us');
    const global = await token('https://graph.microsoft.com/.default');
    expect(global.status).toBe(400);
    expect(global.json().error_codes).toEqual([500011]);
    expect(global.json().error_uri).toMatch(new RegExp(`^${login}/error\\?`));
  });

  it('names the login host in its OpenID configuration', async () => {
    const res = await call(`${login}/${emu.info.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({
      issuer: `${login}/${emu.info.tenantId}/v2.0`,
      token_endpoint: `${login}/${emu.info.tenantId}/oauth2/v2.0/token`,
      cloud_instance_name: 'microsoftonline.us',
      tenant_region_scope: 'USGov',
      msgraph_host: `graph.microsoft.us:${port}`,
    });
  });

  it("builds every Graph link and header on the Graph host's name", async () => {
    const bearer = {
      authorization: `Bearer ${(await token('https://graph.microsoft.us/.default')).json().access_token}`,
    };
    const page = await call(`${graph}/v1.0/users?$select=id&$top=5`, { headers: bearer });
    expect(page.status, page.text).toBe(200);
    expect(page.json()['@odata.nextLink']).toMatch(new RegExp(`^${graph}/v1\\.0/users\\?`));
    expect(page.json()['@odata.context']).toMatch(new RegExp(`^${graph}/v1\\.0/\\$metadata`));
    const delta = await call(`${graph}/v1.0/groups/delta?$select=id`, { headers: bearer });
    const deltaLink = delta.json()['@odata.deltaLink'] as string;
    expect(deltaLink).toMatch(new RegExp(`^${graph}/v1\\.0/groups/delta\\?\\$deltatoken=`));
    emu.tenant.expireDeltaTokens('resync');
    const gone = await call(deltaLink, { headers: bearer });
    expect(gone.status).toBe(410);
    expect(gone.headers.location).toMatch(new RegExp(`^${graph}/v1\\.0/groups/delta\\?`));
    const anonymous = await call(`${graph}/v1.0/users`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toContain(
      `authorization_uri="${login}/common/oauth2/authorize"`,
    );
  });

  it('answers each service on its own host only, and no name it does not serve', async () => {
    expect((await call(`${graph}/${emu.info.tenantId}/v2.0/.well-known/openid-configuration`)).status).toBe(
      404,
    );
    expect((await call(`${login}/v1.0/users`)).status).toBe(404);
    expect((await call(`${graph}/_emulator/info`)).status).toBe(404);
    expect((await call(`https://127.0.0.1:${port}/_emulator/info`)).status).toBe(200);
    // The certificate does not name graph.microsoft.com: a trusted name for TLS, another Host.
    const statusLine = await new Promise<string>((resolve, reject) => {
      const socket = connect(
        { host: '127.0.0.1', port: Number(port), servername: 'graph.microsoft.us', ca: emu.info.caPem },
        () =>
          socket.end(
            `GET /v1.0/users HTTP/1.1\r\nHost: graph.microsoft.com:${port}\r\nConnection: close\r\n\r\n`,
          ),
      );
      let answer = '';
      socket.on('data', (d: Buffer) => {
        answer += d.toString();
      });
      socket.once('end', () => resolve(answer.split('\r\n')[0] ?? ''));
      socket.once('error', reject);
    });
    expect(statusLine).toBe('HTTP/1.1 421 Misdirected Request');
  });
});

describe('the loopback emulator', () => {
  it('builds its links on whichever of its names a request used', async () => {
    const emu = await startEmulator({ users: 12, groups: 0, seed: 6 });
    const agent = loopbackAgent(emu);
    try {
      const port = new URL(emu.info.graphBaseUrl).port;
      expect(emu.info.hosts).toEqual([]);
      const app = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
      const tokenRes = await request(`https://localhost:${port}/${emu.info.tenantId}/oauth2/v2.0/token`, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          grant_type: 'client_credentials',
          scope: `https://localhost:${port}/.default`,
        }).toString(),
      });
      const { access_token } = (await tokenRes.body.json()) as { access_token: string };
      const page = await request(`https://localhost:${port}/v1.0/users?$top=5`, {
        dispatcher: agent,
        headers: { authorization: `Bearer ${access_token}` },
      });
      const body = (await page.body.json()) as Record<string, string>;
      expect(body['@odata.nextLink']).toMatch(new RegExp(`^https://localhost:${port}/v1\\.0/users\\?`));
    } finally {
      await agent.close();
      await emu.close();
    }
  });
});
