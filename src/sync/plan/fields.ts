import { withoutControlCharacters } from '../../directory/text.js';

/** Small value helpers the comparers share: ordering, names as the directory keeps them, diffs. */

/** Code-unit order: the same on every machine and locale, so plans sort identically everywhere. */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The longest name the directory keeps, as the API accepts (longer Entra names are cut). */
export const NAME_MAX = 256;

/**
 * A name from Entra as the directory keeps it: control characters taken out, trimmed, cut to
 * NAME_MAX — one odd display name never fails a sync; null when nothing is left.
 */
export function clean(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const name = withoutControlCharacters(value).trim().slice(0, NAME_MAX).trim();
  return name || null;
}

/**
 * Records in `before`/`after` each of `keys` whose value differs between the directory object and
 * what Entra wants. Keys are written in the order given: change ids hash these objects, so the
 * order is part of a change's identity.
 */
export function diffFields<T extends object, K extends keyof T>(
  before: Partial<T>,
  after: Partial<T>,
  current: Pick<T, K>,
  wanted: Pick<T, K>,
  keys: readonly K[],
): void {
  for (const k of keys) {
    if (current[k] !== wanted[k]) {
      before[k] = current[k];
      after[k] = wanted[k];
    }
  }
}

/** Records an alias change: the directory's aliases (in any order) against the wanted, sorted ones. */
export function diffAliases(
  before: { aliases?: string[] },
  after: { aliases?: string[] },
  current: readonly string[],
  wanted: string[],
): void {
  const currentAliases = [...current].sort();
  const same = currentAliases.length === wanted.length && currentAliases.every((v, i) => v === wanted[i]);
  if (!same) {
    before.aliases = currentAliases;
    after.aliases = wanted;
  }
}
