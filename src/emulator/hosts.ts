/**
 * The host names the emulator answers under, and what each serves. Microsoft's identity platform
 * and Graph live on separate hosts per national cloud; every link, issuer and header the emulator
 * writes is built from the host a request arrived at, so a client pointed at Microsoft's own
 * names (through /etc/hosts) sees exactly the URLs the real service would give it.
 */

/** A Microsoft cloud the emulator can stand in for (docs/emulator.md, "As Microsoft"). */
export type EmulatorCloud = 'global' | 'usgov' | 'usgov-dod' | 'china';

/**
 * Each cloud's sign-in hosts (first = the one clients are told) and Graph hosts, per Microsoft's
 * national-cloud pages: learn.microsoft.com/entra/identity-platform/authentication-national-cloud
 * and learn.microsoft.com/graph/deployments. China's sign-in host has two names: the Entra page
 * and MSAL's instance metadata prefer login.partner.microsoftonline.cn, the Graph page and
 * Azure SDKs name login.chinacloudapi.cn; both reach the same service.
 */
export const MICROSOFT_CLOUD_HOSTS: Record<
  EmulatorCloud,
  { login: string[]; graph: string[]; instance: string; region: string }
> = {
  global: {
    login: ['login.microsoftonline.com'],
    graph: ['graph.microsoft.com'],
    instance: 'microsoftonline.com',
    region: 'EU',
  },
  usgov: {
    login: ['login.microsoftonline.us'],
    graph: ['graph.microsoft.us'],
    instance: 'microsoftonline.us',
    region: 'USGov',
  },
  'usgov-dod': {
    login: ['login.microsoftonline.us'],
    graph: ['dod-graph.microsoft.us'],
    instance: 'microsoftonline.us',
    region: 'USGov',
  },
  china: {
    login: ['login.partner.microsoftonline.cn', 'login.chinacloudapi.cn'],
    graph: ['microsoftgraph.chinacloudapi.cn'],
    instance: 'partner.microsoftonline.cn',
    region: 'AS',
  },
};

/** The clouds, for validating input. */
export const EMULATOR_CLOUDS = Object.keys(MICROSOFT_CLOUD_HOSTS) as EmulatorCloud[];

/** What a request's Host names: its origin and which services answer there. */
export interface Site {
  /** `https://name` (with `:port` unless 443), the base of every URL written in the answer. */
  origin: string;
  login: boolean;
  graph: boolean;
  /** The emulator's own admin API (`/_emulator`), on the listen address only. */
  admin: boolean;
}

/** The names an emulator serves on one listener. */
export class HostNames {
  private readonly login: string[];
  private readonly graph: string[];
  private port = 443;

  /**
   * `cloud` undefined: the loopback emulator, where the listen address (and localhost) serves
   * identity, Graph and the admin API on one origin. Otherwise the cloud's Microsoft names, with
   * the admin API left on the listen address.
   */
  constructor(
    private readonly listenHost: string,
    readonly cloud: EmulatorCloud | undefined,
  ) {
    const own = cloud ? MICROSOFT_CLOUD_HOSTS[cloud] : undefined;
    this.login = own ? own.login : [listenHost, 'localhost'];
    this.graph = own ? own.graph : [listenHost, 'localhost'];
  }

  /** Called once the listener has its port. */
  setPort(port: number): void {
    this.port = port;
  }

  /** DNS names a client must send to the listen address (none for the loopback emulator). */
  get dnsNames(): string[] {
    return this.cloud ? [...new Set([...this.login, ...this.graph])] : [];
  }

  /** Names the TLS certificate must carry. */
  get certificateNames(): string[] {
    return [...new Set([this.listenHost, ...this.login, ...this.graph])];
  }

  private originOf(name: string): string {
    const host = name.includes(':') ? `[${name}]` : name;
    return this.port === 443 ? `https://${host}` : `https://${host}:${this.port}`;
  }

  /** The origin clients are told for tokens (authority host). */
  get loginOrigin(): string {
    return this.originOf(this.login[0]!);
  }

  /** The origin clients are told for Graph. */
  get graphOrigin(): string {
    return this.originOf(this.graph[0]!);
  }

  /** The admin API's origin (the listen address). */
  get adminOrigin(): string {
    return this.originOf(this.listenHost);
  }

  /** The aliases instance discovery lists for a login host: the cloud's sign-in names. */
  loginAliases(host: string): string[] {
    return this.cloud ? [...this.login] : [host];
  }

  /** What a tenant's OpenID configuration says of its cloud (instance name, region scope). */
  cloudFacts(): { instance: string; region: string } {
    if (!this.cloud) return { instance: new URL(this.loginOrigin).host, region: 'EU' };
    const { instance, region } = MICROSOFT_CLOUD_HOSTS[this.cloud];
    return { instance, region };
  }

  /**
   * Graph resources accepted as a token scope and audience: each Graph host's origin (with and
   * without the port). The loopback emulator also accepts `https://graph.microsoft.com`, so code
   * written for the global cloud runs against it changed only in its endpoints.
   */
  graphResources(): string[] {
    const names = this.graph.flatMap((n) => [`https://${n}`, this.originOf(n)]);
    if (!this.cloud) names.push('https://graph.microsoft.com');
    return [...new Set(names)];
  }

  /** Resolves a Host header; undefined when the name is not one this listener serves. */
  resolve(hostHeader: string | undefined): Site | undefined {
    if (!hostHeader) return undefined;
    let name: string;
    try {
      name = new URL(`https://${hostHeader}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
    } catch (error) {
      if (error instanceof TypeError) return undefined;
      throw error;
    }
    const login = this.login.includes(name);
    const graph = this.graph.includes(name);
    const admin = name === this.listenHost || (!this.cloud && name === 'localhost');
    if (!login && !graph && !admin) return undefined;
    return { origin: this.originOf(name), login, graph, admin };
  }
}
