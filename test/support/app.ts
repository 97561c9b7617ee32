import { loadConfig } from '../../src/config.js';
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
