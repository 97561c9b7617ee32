import type { Group } from './model.js';

/** Group membership rules shared by the console, the API and sync. */

/**
 * The users that are members of a group directly or through nested groups (transitively).
 * Safe with cycles (A in B in A) and with dangling references: each group is visited once.
 */
export function effectiveMembers(groups: readonly Group[], groupId: string): Set<string> {
  const byId = new Map(groups.map((g) => [g.id, g]));
  const users = new Set<string>();
  const visited = new Set<string>([groupId]);
  const queue = [groupId];
  while (queue.length > 0) {
    const group = byId.get(queue.pop()!);
    if (!group) continue;
    for (const m of group.members) {
      if (m.type === 'user') users.add(m.id);
      else if (!visited.has(m.id)) {
        visited.add(m.id);
        queue.push(m.id);
      }
    }
  }
  return users;
}
