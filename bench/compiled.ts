/**
 * The bench's child processes run the product as it ships: compiled JavaScript under plain Node
 * (`npm start` runs dist/), not TypeScript under tsx. tsx's loader alone adds about 60 MiB to a
 * process's resident set (97 against 160 MiB with the app's modules loaded, measured), which a
 * peak-RSS figure would otherwise count as the sync's.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const OUT = join(ROOT, '.cache', 'bench');
let built = false;

/** The compiled form of `source` (a .ts file of src/ or bench/), compiling src/ and bench/ once per bench run. */
export function compiled(source: string): string {
  if (!built) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.bench.json')], { stdio: 'inherit' });
    built = true;
  }
  return join(OUT, relative(ROOT, source)).replace(/\.ts$/, '.js');
}
