import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/directory/errors.js';
import { GRAPH_ERROR_CODES } from '../../src/graph/errors.js';
import { RUN_ERRORS, runError } from '../../src/jobs/run-errors.js';

/** Rows of the "Sync run errors" table of docs/errors.md: code → [retry, meaning]. */
function documentedRows(): Map<string, string[]> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = text.split('\n## Sync run errors\n')[1]?.split(/\n## /)[0] ?? '';
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\| `([a-z_]+)` \| (.+) \|$/.exec(line.trim());
    if (m)
      rows.set(
        m[1]!,
        m[2]!.split(' | ').map((c) => c.trim()),
      );
  }
  return rows;
}

describe('docs/errors.md, sync run errors', () => {
  it('lists exactly the run-level codes of the catalog, with retry and sentence', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(RUN_ERRORS).sort());
    for (const [code, spec] of Object.entries(RUN_ERRORS))
      expect(rows.get(code), code).toEqual([spec.retry ? 'yes' : 'no', spec.sentence]);
  });

  it('holds only codes that are neither application nor Graph errors (those have their own sections)', () => {
    const others = new Set<string>([...Object.keys(ERROR_CODES), ...GRAPH_ERROR_CODES]);
    for (const code of Object.keys(RUN_ERRORS)) expect(others.has(code), code).toBe(false);
  });

  it('a run records the code with its catalog sentence', () => {
    expect(runError('worker_lost')).toEqual({
      code: 'worker_lost',
      message: RUN_ERRORS.worker_lost.sentence,
    });
  });
});
