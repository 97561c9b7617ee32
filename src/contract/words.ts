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

/** The words of `--what` and of a run's `what` override, in display order. */
export const WHAT_WORDS = ['users', 'distribution', 'security'] as const;
export type WhatWord = (typeof WHAT_WORDS)[number];

/** The words of `--how` and of a run's `how` override, in display order. */
export const HOW_WORDS = [
  'add-users',
  'update-users',
  'add-groups',
  'update-groups',
  'remove-users',
  'remove-groups',
] as const;
export type HowWord = (typeof HOW_WORDS)[number];
