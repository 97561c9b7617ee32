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
  // Vitest sets NODE_ENV=test, and Vite would then bundle React's development build: test what
  // `npm run build:web` ships (and what a server started next would serve) instead.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(WEB, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
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
