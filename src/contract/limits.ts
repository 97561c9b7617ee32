/**
 * The API's numeric limits, shared by the server (which enforces them) and the console (which
 * says them before sending). No imports: the console's bundle takes this module as a value.
 */

/** The most changes one page of a plan holds, and the furthest a page may start. */
export const PLAN_PAGE_MAX = 500;
export const PLAN_OFFSET_MAX = 10_000_000;

/** The most searches one list answers. */
export const SEARCH_LIST_MAX = 50;

/** An API token's lifetime in days: when none is asked for, and the longest allowed. */
export const TOKEN_DAYS = { default: 90, max: 365 } as const;

/**
 * What the safeguard settings accept, for the console, the API and the CLI alike: a share of the
 * synced users, and a number of users no larger than its `integer` column holds on PostgreSQL.
 */
export const SAFEGUARD_LIMITS = {
  percent: { min: 0, max: 100 },
  minUsers: { min: 1, max: 2_147_483_647 },
} as const;
