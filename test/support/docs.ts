import { readFileSync } from 'node:fs';

/**
 * The rows of the table under a `## heading` of docs/errors.md: code (the first, back-quoted
 * cell) → the other cells, trimmed. Tests compare these with the code's error catalogs.
 */
export function errorTableRows(heading: string): Map<string, string[]> {
  const text = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const section = text.split(`\n## ${heading}\n`)[1]?.split(/\n## /)[0];
  if (section === undefined) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^\|\s*`([a-z_]+)`\s*\|(.+)\|$/.exec(line.trim());
    if (m)
      rows.set(
        m[1]!,
        m[2]!.split('|').map((c) => c.trim()),
      );
  }
  return rows;
}
