import type { Change } from './changes.js';

/**
 * A user update that turns an active user inactive — with the removals, what the deletion
 * safeguard counts (src/jobs/safeguard.ts), the plan reader reports and the console's Execute
 * sentence names. No value imports: the console's bundle takes this module as it is.
 */
export function isDeactivation(change: Change): boolean {
  return (
    change.kind === 'update_user' && change.after.status === 'inactive' && change.before.status !== 'inactive'
  );
}
