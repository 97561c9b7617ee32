import type { Seats } from '../api/types';

/** Billable users before → after, e.g. "10 → 12". */
export function seatsChange(seats: Seats): string {
  return `${seats.before} → ${seats.after}`;
}

/** "10 → 12 (of 11 licensed)", or without the licence when it is not tracked. */
export function seatsText(seats: Seats): string {
  return seats.licensed === null
    ? `${seatsChange(seats)} (licensed seats not tracked)`
    : `${seatsChange(seats)} (of ${seats.licensed} licensed)`;
}

/** How many billable users the plan leaves past the licence; 0 within it or when not tracked. */
export function seatsOver(seats: Seats): number {
  return seats.licensed === null ? 0 : Math.max(0, seats.after - seats.licensed);
}
