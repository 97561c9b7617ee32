import type { INetworkModule, NetworkResponse } from '@azure/msal-node';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Emulator, EmulatorApp } from '../../src/emulator/index.js';

/** An undici dispatcher that trusts only the emulator's CA (what NODE_EXTRA_CA_CERTS would do). */
export function trustingAgent(emu: Emulator): Agent {
  return new Agent({ connect: { ca: emu.info.caPem } });
}

/**
 * MSAL's documented `system.networkClient` hook, backed by undici with the emulator CA: the only
 * change to MSAL is configuration, as it would be with NODE_EXTRA_CA_CERTS.
 */
export function msalNetwork(agent: Agent, seen?: string[]): INetworkModule {
  const send = async <T>(method: string, url: string, headers?: Record<string, string>, body?: string) => {
    seen?.push(`${method} ${url}`);
    const res = await undiciFetch(url, { method, headers, body, dispatcher: agent });
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      out[k] = v;
    });
    return { headers: out, body: (await res.json()) as T, status: res.status } satisfies NetworkResponse<T>;
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options?.headers),
    sendPostRequestAsync: (url, options) => send('POST', url, options?.headers, options?.body),
  };
}

/** A ConfidentialClientApplication pointed at the emulator like a national cloud would be. */
export function msalClient(
  emu: Emulator,
  app: Pick<EmulatorApp, 'clientId' | 'clientSecret'>,
  opts: { tenant?: string; agent?: Agent; metadata?: boolean; seen?: string[] } = {},
): ConfidentialClientApplication {
  const tenant = opts.tenant ?? emu.info.tenantId;
  const host = new URL(emu.info.authorityHost).host;
  const a = emu.info.authorityHost;
  return new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: app.clientSecret,
      authority: `${a}/${tenant}`,
      knownAuthorities: [host],
      ...(opts.metadata
        ? {
            authorityMetadata: JSON.stringify({
              token_endpoint: `${a}/${tenant}/oauth2/v2.0/token`,
              authorization_endpoint: `${a}/${tenant}/oauth2/v2.0/authorize`,
              issuer: `${a}/${tenant}/v2.0`,
              jwks_uri: `${a}/${tenant}/discovery/v2.0/keys`,
            }),
          }
        : {}),
    },
    system: { networkClient: msalNetwork(opts.agent ?? trustingAgent(emu), opts.seen) },
  });
}

/** Gets an access token for the emulator's Graph through MSAL. */
export async function tokenFor(emu: Emulator, app: EmulatorApp, agent?: Agent): Promise<string> {
  const cca = msalClient(emu, app, { agent });
  const res = await cca.acquireTokenByClientCredential({ scopes: [`${emu.info.graphBaseUrl}/.default`] });
  if (!res) throw new Error('MSAL returned no token');
  return res.accessToken;
}

/**
 * A Graph SDK client for the emulator: the default middleware chain (auth, retry, redirect,
 * telemetry) with the emulator host as a custom host and undici with the CA as fetch transport.
 */
export function graphClient(emu: Emulator, token: string, agent: Agent): Client {
  // The SDK matches custom hosts by hostname without the port.
  const host = new URL(emu.info.graphBaseUrl).hostname;
  return Client.init({
    authProvider: (done) => done(null, token),
    baseUrl: `${emu.info.graphBaseUrl}/`,
    customHosts: new Set([host]),
    // Node's fetch accepts an undici dispatcher; the SDK passes fetchOptions through untouched.
    fetchOptions: { dispatcher: agent } as never,
  });
}

/** A Graph-shaped GET through undici (for checks the SDK would hide). */
export async function graphGet(
  emu: Emulator,
  agent: Agent,
  token: string,
  path: string,
  headers: Record<string, string> = {},
  // biome-ignore lint/suspicious/noExplicitAny: Graph JSON under test is read loosely, then asserted on.
): Promise<{ status: number; headers: Headers; body: any }> {
  const url = path.startsWith('https://') ? path : `${emu.info.graphBaseUrl}/v1.0${path}`;
  const res = await undiciFetch(url, {
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  const text = await res.text();
  let body: unknown = text;
  if ((res.headers.get('content-type') ?? '').includes('json')) body = JSON.parse(text);
  return { status: res.status, headers: res.headers as unknown as Headers, body };
}
