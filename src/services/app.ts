import type { Config } from '../config.js';
import { type DiagnosticReport, GraphError, INTERACTIVE } from '../graph/index.js';
import { openStore, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { AuthService } from './auth.js';
import { type Runtime, systemRuntime } from './clock.js';
import { connectionHealthRecorder } from './connection-health.js';
import { DirectoryService } from './directory.js';
import { dnsTxtReader } from './domain-proof.js';
import { EntraSettingsService } from './entra-settings.js';
import { leaseTiming } from './lease-heartbeat.js';
import { type DomainProofSources, OrganizationService } from './organizations.js';
import { SearchService } from './searches.js';
import { SecretBox } from './secrets.js';
import { type ConnectorFactory, defaultConnectorFactory, SyncService } from './sync.js';

/** The services of one process, over one database. CLI commands and the HTTP server use these. */
export class App {
  readonly orgs: OrganizationService;
  readonly auth: AuthService;
  /** Searches (manual-sync previews) this process runs as jobs, and every server's view of them. */
  readonly searches: SearchService;
  #secrets: SecretBox | undefined;

  constructor(
    readonly store: Store,
    readonly config: Config,
    readonly runtime: Runtime = systemRuntime,
    /** How sync reaches Graph; replaced by benchmarks that count requests. */
    readonly connectors: ConnectorFactory = defaultConnectorFactory,
  ) {
    this.orgs = new OrganizationService(store, runtime);
    this.auth = new AuthService(store, runtime);
    this.searches = new SearchService(store, runtime, (orgId) => this.sync(orgId));
  }

  /** The key that seals client secrets; opened on first use so commands that never need it never create it. */
  get secrets(): SecretBox {
    this.#secrets ??= SecretBox.open(this.config.secretKey, this.config.dataDir);
    return this.#secrets;
  }

  /** One organization's Entra connection settings. */
  entraSettings(orgId: string): EntraSettingsService {
    return new EntraSettingsService(this.store, orgId, this.secrets, this.runtime, this.connectors);
  }

  /** One organization's sync: preview, execute, history. Manual runs feed the connection's health. */
  async sync(orgId: string): Promise<SyncService> {
    const org = await this.orgs.get(orgId);
    return new SyncService(
      this.store,
      org,
      this.entraSettings(orgId),
      this.runtime,
      this.connectors,
      leaseTiming(this.config.syncLeaseSeconds),
      { afterManualRun: connectionHealthRecorder(this.store, org.id, this.runtime) },
    );
  }

  /** The directory of one organization (its domains decide which addresses are valid). */
  async directory(orgId: string): Promise<DirectoryService> {
    const org = await this.orgs.get(orgId);
    return new DirectoryService(this.store, org.id, org, this.runtime);
  }

  /** Connection diagnostics for an organization's saved settings. */
  async testConnection(orgId: string): Promise<DiagnosticReport> {
    const connection = await this.entraSettings(orgId).connection();
    // A person waits for this answer: short timeouts, one retry, one deadline for the whole test.
    const connector = this.connectors(connection, { patience: INTERACTIVE });
    try {
      return await connector.diagnose();
    } finally {
      await connector.close();
    }
  }

  /**
   * Where a pending domain of `orgId` may find its proof: its TXT records (the configured name
   * servers) and the verified domains of the organization's Entra tenant.
   */
  domainProofSources(orgId: string): DomainProofSources {
    return {
      txt: dnsTxtReader(this.config.dnsServers),
      entra: async () => {
        const connection = await this.entraSettings(orgId).domainProofConnection();
        if ('notAsked' in connection) return connection;
        const connector = this.connectors(connection, { patience: INTERACTIVE });
        try {
          return { tenant: connection.tenant, domains: await connector.tenantDomains() };
        } catch (error) {
          if (!(error instanceof GraphError)) throw error;
          return { failure: error.detail, hint: error.hint };
        } finally {
          await connector.close();
        }
      },
    };
  }

  async close(): Promise<void> {
    // A search still reading would write to a closed database: it stops and ends as interrupted.
    await this.searches.close();
    await this.store.close();
  }
}

/** Opens the database, brings its schema up to date and builds the services. */
export async function openApp(
  config: Config,
  runtime: Runtime = systemRuntime,
  connectors: ConnectorFactory = defaultConnectorFactory,
): Promise<App> {
  const store = openStore(config.store);
  try {
    await migrateToLatest(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return new App(store, config, runtime, connectors);
}
