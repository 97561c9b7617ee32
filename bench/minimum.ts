/**
 * The protocol minimum: how many Graph requests any correct client needs to read the tenant.
 * Delta has no $top (docs/graph-facts.md §3.1), so the page boundaries are the server's: Graph (and the
 * emulator) put at most 200 objects and 500 `members@delta` entries on a page, splitting a large
 * group's members over consecutive pages. A round always ends with a deltaLink page, so even a
 * round with no changes is one request per collection.
 */

/** Page limits of the server (the emulator's defaults, as Graph). */
export const DELTA_PAGE = { objects: 200, memberEntries: 500 };

/**
 * Pages of one delta round whose objects, in server order, carry `entries[i]` member entries
 * each (0 for users). Same packing as the server: a page ends after 200 objects, or once the
 * member budget is spent, and a group whose entries do not fit continues on the next page.
 */
export function deltaPages(entries: readonly number[], limits = DELTA_PAGE): number {
  let pages = 0;
  let i = 0;
  let done = 0; // entries of object i already sent
  do {
    pages++;
    let objects = 0;
    let budget = limits.memberEntries;
    while (i < entries.length && objects < limits.objects) {
      const all = entries[i]!;
      if (all > 0) {
        if (budget <= 0 && objects > 0) break;
        const take = Math.min(all - done, Math.max(budget, 1));
        budget -= take;
        done += take;
        objects++;
        if (done < all) break;
      } else {
        objects++;
      }
      i++;
      done = 0;
    }
  } while (i < entries.length);
  return pages;
}

/** Requests of a round over users (no members) and groups (with their member-entry counts). */
export function roundMinimum(users: number, groupEntries: readonly number[]): number {
  return deltaPages(new Array<number>(users).fill(0)) + deltaPages(groupEntries);
}

/** Requests Graph accepts in one `$batch` (docs/graph-facts.md §4). */
export const BATCH_LIMIT = 20;

/**
 * Requests to read `needed` mailbox purposes: read per user (list and delta never return them),
 * 20 to a `$batch`. A full read needs one for every mailbox whose sign-in is blocked; a delta read
 * for those whose purpose is unknown (no Exchange mailbox) or whose sign-in or addresses changed.
 */
export function purposeMinimum(needed: number): number {
  return Math.ceil(needed / BATCH_LIMIT);
}
