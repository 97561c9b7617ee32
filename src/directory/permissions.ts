import type { Role } from './model.js';

/** Who is calling: an operator of the service, a user of one organization, or an API token. */
export type Principal =
  | { type: 'operator'; id: string; email: string }
  | { type: 'user'; id: string; orgId: string; role: Role; email: string }
  | { type: 'token'; id: string; name: string; orgId: string | null };

/** Operators (and operator tokens) manage every organization and create new ones. */
export function canManageService(p: Principal): boolean {
  return p.type === 'operator' || (p.type === 'token' && p.orgId === null);
}

/** Administer one organization: its settings, users, groups, syncs. */
export function canAdminOrg(p: Principal, orgId: string): boolean {
  if (canManageService(p)) return true;
  if (p.type === 'user') return p.role === 'org_admin' && p.orgId === orgId;
  return p.type === 'token' && p.orgId === orgId;
}

/** Read or change one user's own self-service profile. */
export function canActAsUser(p: Principal, orgId: string, userId: string): boolean {
  return canAdminOrg(p, orgId) || (p.type === 'user' && p.orgId === orgId && p.id === userId);
}
