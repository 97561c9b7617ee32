import { deactivationsOf, type HoldReason, type Preview, type Safeguard } from '../services/sync.js';
import { DEFAULT_SAFEGUARD, type JobsRepository } from '../store/jobs-repository.js';

/** Users a plan would take away: removals, and updates that turn a user inactive. */
export function removalsOf(preview: Preview): number {
  return preview.usersToRemove.length + deactivationsOf(preview.usersToUpdate);
}

/**
 * The deletion safeguard of unattended syncs: holds a plan that removes or deactivates more than
 * `percent` % of the organization's synced users and at least `minUsers` of them.
 */
export function deletionSafeguard(repo: JobsRepository, orgId: string): Safeguard {
  return async (preview): Promise<HoldReason | null> => {
    const removals = removalsOf(preview);
    if (removals === 0) return null;
    const settings = await repo.automation(orgId);
    const percent = settings?.safeguard_percent ?? DEFAULT_SAFEGUARD.percent;
    const minUsers = settings?.safeguard_min_users ?? DEFAULT_SAFEGUARD.minUsers;
    const syncedUsers = await repo.syncedUserCount(orgId);
    if (removals < minUsers || removals * 100 <= percent * syncedUsers) return null;
    return {
      removals,
      syncedUsers,
      message: `This sync would remove or deactivate ${removals} of ${syncedUsers} synced users (more than ${percent} % and at least ${minUsers}): it is held until an administrator approves or dismisses it.`,
    };
  };
}
