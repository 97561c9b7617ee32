/**
 * The contract's word lists that the console needs as values. No imports: the console's bundle
 * takes this module as it is, without typebox or any server code.
 */

/** What needs attention, most urgent first. */
export const ATTENTION = ['failing', 'held', 'key_expired', 'key_expiring', 'never_synced', 'ok'] as const;
export type Attention = (typeof ATTENTION)[number];

/** The `needs` filter: failing, held, key (expired or expiring), never (synced), any (anything but ok). */
export const NEEDS = ['failing', 'held', 'key', 'never', 'any'] as const;
export type Need = (typeof NEEDS)[number];

export const OVERVIEW_SORTS = ['attention', 'name', 'lastSuccess'] as const;
export type OverviewSort = (typeof OVERVIEW_SORTS)[number];
