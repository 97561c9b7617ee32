import type { Config } from '../config.js';
import { openStore, type Store } from '../store/database.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { AuthService } from './auth.js';
import { type Runtime, systemRuntime } from './clock.js';
import { DirectoryService } from './directory.js';
import { OrganizationService } from './organizations.js';

/** The services of one process, over one database. CLI commands and the HTTP server use these. */
export class App {
  readonly orgs: OrganizationService;
  readonly auth: AuthService;

  constructor(
    readonly store: Store,
    readonly config: Config,
    readonly runtime: Runtime = systemRuntime,
  ) {
    this.orgs = new OrganizationService(store, runtime);
    this.auth = new AuthService(store, runtime);
  }

  /** The directory of one organization (its domains decide which addresses are valid). */
  async directory(orgId: string): Promise<DirectoryService> {
    const org = await this.orgs.get(orgId);
    return new DirectoryService(this.store, org.id, org.domains, this.runtime);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

/** Opens the database, brings its schema up to date and builds the services. */
export async function openApp(config: Config, runtime: Runtime = systemRuntime): Promise<App> {
  const store = openStore(config.store);
  try {
    await migrateToLatest(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  return new App(store, config, runtime);
}
