import type { DefaultRole, HowSwitches, SyncPolicy, WhatSwitches } from '../contract/sync.js';
import { HOW_WORDS, type HowWord, WHAT_WORDS, type WhatWord } from '../contract/words.js';
import { invalid } from '../directory/errors.js';
import { DEFAULT_BLOCKED_MAILBOX_RULE } from '../directory/recipients.js';

/**
 * The sync policy: *what* is synced (object kinds in scope) and *how* (which change kinds may be
 * planned), plus the role given to new users. Parsed from the CLI/API word lists here, so every
 * edge accepts and prints exactly the same words.
 */

// The shapes that cross the wire: static types of the HTTP contract's schemas (src/contract/sync.ts).
export type { DefaultRole, HowSwitches, SyncPolicy, WhatSwitches };

// The what and how words are the contract's too (a run's overrides), kept where the console reads them.
export { HOW_WORDS, type HowWord, WHAT_WORDS, type WhatWord };

const WHAT_KEY: Record<WhatWord, keyof WhatSwitches> = {
  users: 'users',
  distribution: 'distribution',
  security: 'security',
};

const HOW_KEY: Record<HowWord, keyof HowSwitches> = {
  'add-users': 'addUsers',
  'update-users': 'updateUsers',
  'add-groups': 'addGroups',
  'update-groups': 'updateGroups',
  'remove-users': 'removeUsers',
  'remove-groups': 'removeGroups',
};

/** Default scope: everything Entra has that can receive mail or carry policy. */
export const DEFAULT_WHAT: Readonly<WhatSwitches> = Object.freeze({
  users: true,
  distribution: true,
  security: true,
});

/**
 * Default change kinds: adds and updates on, removals off. A removal deletes an object and
 * whatever the service keeps for it (quarantine, settings); a disabled account already becomes
 * inactive through an update, so leavers stop receiving mail without any removal. Deleting is
 * the one thing an admin must opt into.
 */
export const DEFAULT_HOW: Readonly<HowSwitches> = Object.freeze({
  addUsers: true,
  updateUsers: true,
  addGroups: true,
  updateGroups: true,
  removeUsers: false,
  removeGroups: false,
});

/** The policy of an organization that has not chosen anything yet. */
export function defaultPolicy(): SyncPolicy {
  return {
    what: { ...DEFAULT_WHAT },
    how: { ...DEFAULT_HOW },
    defaultRole: 'end_user',
    blockedMailboxes: DEFAULT_BLOCKED_MAILBOX_RULE,
    includeGuests: false,
  };
}

/**
 * Splits a word list given as `a,b,c` (CLI) or as an array (API). `none` alone means the empty
 * set and `all` every word, so that every set of switches can be written and read back.
 */
function parseWords<W extends string>(
  input: string | readonly string[],
  allowed: readonly W[],
  field: string,
): W[] {
  const raw = (typeof input === 'string' ? input.split(',') : [...input]).map((w) => w.trim().toLowerCase());
  const words = raw.filter((w) => w.length > 0);
  const list = allowed.join(', ');
  if (words.length === 0) {
    throw invalid(field, `--${field} is empty: list one or more of ${list} (or "none", or "all").`);
  }
  if (words.length === 1 && words[0] === 'none') return [];
  if (words.length === 1 && words[0] === 'all') return [...allowed];
  const unknown = words.filter((w) => !(allowed as readonly string[]).includes(w));
  if (unknown.length > 0) {
    const what = unknown.map((w) => `"${w}"`).join(', ');
    throw invalid(
      field,
      `${what} ${unknown.length === 1 ? 'is' : 'are'} not known for --${field}: use ${list}.`,
    );
  }
  return allowed.filter((w) => words.includes(w));
}

/** Parses `--what users,distribution,security` (or the same words as an array). */
export function parseWhat(input: string | readonly string[], field = 'what'): WhatSwitches {
  const words = parseWords(input, WHAT_WORDS, field);
  const what: WhatSwitches = { users: false, distribution: false, security: false };
  for (const w of words) what[WHAT_KEY[w]] = true;
  return what;
}

/** Parses `--how add-users,update-users,…` (or the same words as an array). */
export function parseHow(input: string | readonly string[], field = 'how'): HowSwitches {
  const words = parseWords(input, HOW_WORDS, field);
  const how: HowSwitches = {
    addUsers: false,
    updateUsers: false,
    addGroups: false,
    updateGroups: false,
    removeUsers: false,
    removeGroups: false,
  };
  for (const w of words) how[HOW_KEY[w]] = true;
  return how;
}

/** The words for a set of what-switches, in display order. */
export function whatWords(what: WhatSwitches): WhatWord[] {
  return WHAT_WORDS.filter((w) => what[WHAT_KEY[w]]);
}

/** The words for a set of how-switches, in display order. */
export function howWords(how: HowSwitches): HowWord[] {
  return HOW_WORDS.filter((w) => how[HOW_KEY[w]]);
}

/** `--what` as the CLI prints and parses it (`none` for the empty set). */
export function formatWhat(what: WhatSwitches): string {
  const words = whatWords(what);
  return words.length ? words.join(',') : 'none';
}

/** `--how` as the CLI prints and parses it (`none` for the empty set). */
export function formatHow(how: HowSwitches): string {
  const words = howWords(how);
  return words.length ? words.join(',') : 'none';
}
