import { type QueryClient, useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { afterDomainsChange, keys } from '../api/keys';
import type { Organization } from '../api/types';
import { orgPath } from './hooks';

/** The organization as `GET /orgs/{org}` answers it (the shell has usually fetched it already). */
export function useOrganization(org: string) {
  return useQuery({
    queryKey: keys.organization(org),
    queryFn: () => api<Organization>('GET', orgPath(org)),
  });
}

/** After a domain was added, proven or removed: every page that shows the domains asks again. */
export function refreshDomains(queryClient: QueryClient, org: string, updated?: Organization): void {
  if (updated) queryClient.setQueryData(keys.organization(org), updated);
  afterDomainsChange(queryClient, org);
}

/**
 * The sentence under an address field: the domains that accept addresses (the proven ones) and,
 * apart, the pending ones, which do not yet — so a form never suggests a pending domain as valid.
 */
export function addressDomainsHint(lead: string, org: Organization | undefined): string {
  if (!org) return `${lead}, in one of the organization's verified domains.`;
  const verified = org.domains.length
    ? `${lead}, in one of the organization's verified domains: ${org.domains.join(', ')}.`
    : `${lead}. The organization has no verified domain yet, so no address is accepted.`;
  const pending = org.pendingDomains.length
    ? ` Not yet accepted (pending until proven on the Domains page): ${org.pendingDomains.join(', ')}.`
    : '';
  return verified + pending;
}
