import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// docs/ARCHITECTURE.md's Folders table is enforced by `npm run lint` (biome.json: one
// noRestrictedImports override per folder, and tools/no-raw-sql.grit for SQL outside src/store).
// Each probe is a file that crosses a layer; the linter must refuse it, naming the rule.

const root = join(import.meta.dirname, '..', '..');
const biome = join(root, 'node_modules', '.bin', 'biome');

/** Lints `source` written at `path` (relative to the repository), then deletes it. */
function lintProbe(path: string, source: string): { status: number | null; output: string } {
  const file = join(root, path);
  writeFileSync(file, source);
  try {
    const run = spawnSync(biome, ['lint', '--max-diagnostics=50', path], { cwd: root, encoding: 'utf8' });
    return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
  } finally {
    rmSync(file, { force: true });
  }
}

describe('the layers of docs/ARCHITECTURE.md, as npm run lint enforces them', () => {
  const crossings: [string, string, string][] = [
    [
      'src/directory/_layer_probe.ts',
      "import { openStore } from '../store/database.js';\nexport const x = openStore;\n",
      'noRestrictedImports',
    ],
    [
      'src/sync/_layer_probe.ts',
      "import { AuthService } from '../services/auth.js';\nexport const x = AuthService;\n",
      'noRestrictedImports',
    ],
    [
      'src/graph/_layer_probe.ts',
      "import { plan } from '../sync/plan.js';\nexport const x = plan;\n",
      'noRestrictedImports',
    ],
    [
      'src/store/_layer_probe.ts',
      "import { ATTENTION } from '../jobs/attention.js';\nexport const x = ATTENTION;\n",
      'noRestrictedImports',
    ],
    [
      'src/services/_layer_probe.ts',
      "import { startJobs } from '../jobs/index.js';\nexport const x = startJobs;\n",
      'noRestrictedImports',
    ],
    [
      'src/services/_layer_probe.ts',
      "import { sql } from 'kysely';\nexport const x = sql;\n",
      'noRestrictedImports',
    ],
    [
      'src/jobs/_layer_probe.ts',
      "import { openStore } from '../store/database.js';\nexport const x = openStore;\n",
      'noRestrictedImports',
    ],
    [
      'src/http/_layer_probe.ts',
      "import { listAudit } from '../store/audit.js';\nexport const x = listAudit;\n",
      'noRestrictedImports',
    ],
    [
      'src/cli/_layer_probe.ts',
      "import { JobsRepository } from '../store/jobs-repository.js';\nexport const x = JobsRepository;\n",
      'noRestrictedImports',
    ],
    [
      'src/contract/_layer_probe.ts',
      "import { AuthService } from '../services/auth.js';\nexport const x = AuthService;\n",
      'noRestrictedImports',
    ],
    [
      'src/contract/_layer_probe.ts',
      "import { GraphConnector } from '../graph/connector.js';\nexport const x = GraphConnector;\n",
      'noRestrictedImports',
    ],
    [
      'src/graph/_layer_probe.ts',
      "import { PreviewSchema } from '../contract/sync.js';\nexport const x = PreviewSchema;\n",
      'noRestrictedImports',
    ],
    [
      'src/emulator/_layer_probe.ts',
      "import { AppError } from '../directory/errors.js';\nexport const x = AppError;\n",
      'noRestrictedImports',
    ],
    [
      'src/services/_layer_probe.ts',
      "import type { App } from './app.js';\nexport const x = (app: App) => app.store.db.selectFrom('operators').selectAll().execute();\n",
      'SQL belongs in src/store',
    ],
  ];

  it.each(crossings)('refuses %s crossing a layer', (path, source, rule) => {
    const { status, output } = lintProbe(path, source);
    expect(status, output).not.toBe(0);
    expect(output).toContain(rule);
  });

  it('lets the contract import its word lists and the connector types it proves equal', () => {
    const { status, output } = lintProbe(
      'src/contract/_layer_probe.ts',
      "import type { ReadResult } from '../graph/connector.js';\nimport { CATEGORIES } from '../sync/categories.js';\nexport type X = ReadResult['mode'];\nexport const y = CATEGORIES;\n",
    );
    expect(status, output).toBe(0);
  });

  it('lets an import the table allows through', () => {
    const { status, output } = lintProbe(
      'src/jobs/_layer_probe.ts',
      "import { JobsRepository } from '../store/jobs-repository.js';\nimport type { App } from '../services/app.js';\nexport const x = (app: App) => new JobsRepository(app.store.db, app.store.dialect);\n",
    );
    expect(status, output).toBe(0);
  });
});
