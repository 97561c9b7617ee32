import { useParams } from 'react-router';

/** The organization (id or domain) the current page belongs to. */
export function useOrgRef(): string {
  const { org } = useParams();
  if (!org) throw new Error('useOrgRef outside /orgs/:org');
  return org;
}

/** `/orgs/{org}` with the reference escaped, for API paths. */
export function orgPath(org: string): string {
  return `/orgs/${encodeURIComponent(org)}`;
}
