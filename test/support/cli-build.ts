import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '../..');
/**
 * Where the CLI suites' `entrasync` is built: one level below the repository root, as `dist/` is,
 * so paths the code resolves from its own place (the console's `web/dist`) hold.
 */
export const CLI_BUILD = join(ROOT, '.cli-test');

/** Node's arguments that run the built `entrasync` with `args`. */
export function cliArgs(args: string[]): string[] {
  return ['--enable-source-maps', join(CLI_BUILD, 'cli', 'main.js'), ...args];
}

/**
 * Transpiles src/ file by file, as `npm run build` does but without type-checking (`npm run
 * check` does that): a CLI test then starts plain `node` on JavaScript, about a third of the CPU a
 * start through tsx costs — which matters when a suite spawns the command hundreds of times.
 */
export async function buildCli(): Promise<void> {
  const sources = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(ROOT, 'src', f));
  await build({
    entryPoints: sources,
    outdir: CLI_BUILD,
    outbase: join(ROOT, 'src'),
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}
