/**
 * Microsoft's national clouds (docs/graph-facts.md §1.4) and the endpoints a connection resolves to.
 * Custom endpoints (emulator, test servers) override the cloud's hosts; whether a tenant may
 * choose them is decided by the caller (ENTRASYNC_ALLOW_CUSTOM_CLOUD), not here.
 */

/** A Microsoft cloud an Entra tenant can live in. */
export type Cloud = 'global' | 'usgov' | 'usgov-dod' | 'china';

/** Token (authority) host and Graph root of each national cloud; access tokens do not cross clouds. */
export const CLOUDS: Record<Cloud, { authorityHost: string; graphUrl: string }> = {
  // Microsoft 365 GCC (moderate) also uses the worldwide endpoints.
  global: { authorityHost: 'https://login.microsoftonline.com', graphUrl: 'https://graph.microsoft.com' },
  usgov: { authorityHost: 'https://login.microsoftonline.us', graphUrl: 'https://graph.microsoft.us' },
  'usgov-dod': {
    authorityHost: 'https://login.microsoftonline.us',
    graphUrl: 'https://dod-graph.microsoft.us',
  },
  // MSAL's preferred host for the 21Vianet instance; login.chinacloudapi.cn is an alias of it.
  china: {
    authorityHost: 'https://login.partner.microsoftonline.cn',
    graphUrl: 'https://microsoftgraph.chinacloudapi.cn',
  },
};

/** The cloud names, for validating input. */
export const CLOUD_NAMES = Object.keys(CLOUDS) as Cloud[];

/** The endpoints a connection talks to: an https origin for tokens and the Graph root (no path). */
export interface Endpoints {
  authorityHost: string;
  graphUrl: string;
}

/** Strips a trailing slash so `${host}/${tenant}` never doubles it. */
const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** The endpoints of a cloud, with optional overrides of either host. */
export function resolveEndpoints(
  cloud: Cloud,
  overrides: { authorityHost?: string | undefined; graphUrl?: string | undefined } = {},
): Endpoints {
  const base = CLOUDS[cloud];
  return {
    authorityHost: trimSlash(overrides.authorityHost ?? base.authorityHost),
    graphUrl: trimSlash(overrides.graphUrl ?? base.graphUrl),
  };
}

/** The Graph resource scope for the client-credentials grant: `{graph root}/.default`. */
export const graphScope = (graphUrl: string) => `${trimSlash(graphUrl)}/.default`;

/**
 * The admin-consent link for this tenant and app (docs/graph-facts.md §1.8, v2 endpoint with `/.default`,
 * which consents to every application permission configured on the app registration).
 * Microsoft documents `redirect_uri` as required and matched against the app's registered ones,
 * so pass it when the caller has one; the portal's "Grant admin consent" button is the
 * alternative the setup guide describes.
 */
export function adminConsentUrl(
  where: Cloud | Endpoints,
  tenant: string,
  clientId: string,
  options: { redirectUri?: string; state?: string } = {},
): string {
  const endpoints = typeof where === 'string' ? CLOUDS[where] : where;
  const url = new URL(
    `${trimSlash(endpoints.authorityHost)}/${encodeURIComponent(tenant)}/v2.0/adminconsent`,
  );
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('scope', graphScope(endpoints.graphUrl));
  if (options.redirectUri) url.searchParams.set('redirect_uri', options.redirectUri);
  if (options.state) url.searchParams.set('state', options.state);
  return url.toString();
}
