import type { ScheduleCandidate } from '../store/jobs-repository.js';

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
/** A failing connection is retried after 1, 2, 4, 8, 16, then every 24 hours. */
export const MAX_BACKOFF_HOURS = 24;
/** Reminders before the client secret's expiry date, in days (0: it has expired). */
export const SECRET_REMINDER_DAYS = [30, 7, 1, 0] as const;

/** Hours to wait after the start of a failed run, by the length of the failure streak. */
export function backoffHours(consecutiveFailures: number): number {
  return Math.min(MAX_BACKOFF_HOURS, 2 ** Math.max(0, consecutiveFailures - 1));
}

/**
 * When the organization's next automatic sync is due: start of its last run + frequency (or the
 * backoff while the connection fails); at once when it never ran. Null: manual only, or paused
 * because a run waits for approval.
 */
export function nextSyncAt(c: ScheduleCandidate, now: Date): Date | null {
  if (c.frequencyHours === null || c.heldRunId) return null;
  if (!c.lastStartedAt) return now;
  const hours = c.consecutiveFailures > 0 ? backoffHours(c.consecutiveFailures) : c.frequencyHours;
  return new Date(Date.parse(c.lastStartedAt) + hours * HOUR_MS);
}

/** Days from today (UTC) to a YYYY-MM-DD date; 0 or less: expired. */
export function daysUntil(date: string, now: Date): number {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Math.round((Date.parse(`${date}T00:00:00Z`) - today) / DAY_MS);
}

/**
 * The reminder step reached for a secret expiring on `expiresAt` (YYYY-MM-DD, UTC): the smallest
 * of 30/7/1/0 days not below the days left, or null while more than 30 days are left. A step
 * reached late (a date entered 5 days ahead) is sent once, as the 7-day reminder.
 */
export function secretReminderStep(expiresAt: string, now: Date): number | null {
  const daysLeft = daysUntil(expiresAt, now);
  if (daysLeft > SECRET_REMINDER_DAYS[0]) return null;
  if (daysLeft <= 0) return 0;
  let step: number = SECRET_REMINDER_DAYS[0];
  for (const s of SECRET_REMINDER_DAYS) if (s > 0 && daysLeft <= s) step = s;
  return step;
}
