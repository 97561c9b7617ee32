import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Builds the console into web/dist before any browser test runs. */
export default async function setup() {
  await build({
    configFile: fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url)),
    logLevel: 'warn',
  });
}
