/**
 * Codes a sync run can record that are neither an AppError nor a Graph error: they come from
 * what runs a sync or a search (the lease, the search job, the jobs runner), about the run
 * itself. docs/errors.md ("Sync run errors") lists them; a test
 * keeps the two in step.
 */
export const RUN_ERRORS = {
  worker_lost: {
    retry: true,
    sentence:
      'The process running this sync (a worker, the server or `entrasync sync`) stopped before it finished (killed, crashed or cut off from the database); nothing of it was applied. An automatic sync is retried; run a manual one again.',
  },
  interrupted: {
    retry: false,
    sentence:
      'The server that ran this search (the manual-sync preview) stopped before it finished (restarted, killed or cut off from the database); nothing was stored. Search again.',
  },
} as const;

export type RunErrorCode = keyof typeof RUN_ERRORS;

/** The error a run records for a run-level code: the code and its catalog sentence. */
export function runError(code: RunErrorCode): { code: RunErrorCode; message: string } {
  return { code, message: RUN_ERRORS[code].sentence };
}
