/**
 * The OpenAPI document of the JSON API, as `GET /api/v1/openapi.json` serves it, built from the
 * route schemas (src/http/routes). `npm run docs:openapi` writes it to docs/openapi.json, which is
 * committed: a test fails when the routes and the committed document differ.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../src/config.js';
import { buildServer } from '../src/http/server.js';
import { openApp } from '../src/services/app.js';

export const OPENAPI_FILE = resolve(import.meta.dirname, '../docs/openapi.json');

/** The document as text: two-space JSON and a final newline, so a diff of it reads well. */
export async function openApiText(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'entrasync-openapi-'));
  const app = await openApp(loadConfig({ DATA_DIR: dir }, false));
  try {
    const server = await buildServer(app);
    const response = await server.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    await server.close();
    return `${JSON.stringify(response.json(), null, 2)}\n`;
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
