import { resolve } from 'node:path';

export const README = resolve(import.meta.dirname, '../README.md');
const BEGIN = /<!-- config:begin[^>]*-->\n/;
const END = '\n<!-- config:end -->';

/** README.md's text with `table` between the config markers (which must be there, once). */
export function readmeWithConfigTable(readme: string, table: string): string {
  const begin = BEGIN.exec(readme);
  const end = readme.indexOf(END);
  if (!begin || end < begin.index) throw new Error('README.md has no config:begin … config:end markers');
  return readme.slice(0, begin.index + begin[0].length) + table + readme.slice(end);
}
