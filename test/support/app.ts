import { loadConfig } from '../../src/config.js';
import type { Emulator } from '../../src/emulator/index.js';
import { type App, openApp } from '../../src/services/app.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from './databases.js';

/** A migrated App over a fresh database of one kind. */
export async function createTestApp(
  kind: DatabaseKind,
): Promise<{ app: App; db: TestDatabase; close(): Promise<void> }> {
  const db = await createTestDatabase(kind);
  const config = loadConfig({ ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' });
  const app = await openApp(config);
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/**
 * Connects an organization to an emulated tenant with the tenant's sync app, as an operator would
 * (the emulator's endpoints are custom ones). `tenant`: the domain to sign in with.
 */
export async function connectToEmulator(
  app: App,
  orgId: string,
  emu: Emulator,
  tenant: string,
): Promise<void> {
  const syncApp = emu.info.apps.find((a) => a.displayName === 'entrasync-sync')!;
  await app.entraSettings(orgId).set(
    {
      tenant,
      clientId: syncApp.clientId,
      clientSecret: syncApp.clientSecret,
      authorityHost: emu.info.authorityHost,
      graphUrl: emu.info.graphBaseUrl,
      caPem: emu.info.caPem,
    },
    { allowCustomEndpoints: true, byOperator: true },
    'test',
  );
}
