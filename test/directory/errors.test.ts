import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/directory/errors.js';

/** Rows of the "Application errors" table of docs/errors.md: code → [HTTP, CLI exit, meaning]. */
function documentedRows(): Map<string, string[]> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = text.split('## Application errors')[1]!.split(/\n## /)[0]!;
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

describe('docs/errors.md, application errors', () => {
  it('lists exactly the codes of the catalog, with their HTTP status, exit code and meaning', () => {
    const rows = documentedRows();
    expect([...rows.keys()].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(rows.get(code), code).toEqual([String(spec.status), spec.input ? '2' : '1', spec.meaning]);
    }
  });
});
