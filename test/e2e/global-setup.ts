import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * Builds the console into web/dist unless the build is newer than every source file: the browser
 * never tests a stale console, and a second run started meanwhile does not empty the folder a
 * first run's server is serving.
 */
export default async function setup() {
  const index = join(WEB, 'dist', 'index.html');
  if (existsSync(index) && newestSource(WEB) < statSync(index).mtimeMs) return;
  await build({ configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
}

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}
