import type { QueryClient } from '@tanstack/react-query';

/**
 * Every query-cache key of the console, and the invalidations that follow a change. Keys are
 * hierarchical: an organization's data sits under `['org', org]`, then its kind, then the
 * parameters, so invalidating a prefix reaches everything under it (`users` reaches every page
 * and the count of the users list). A key is never written by hand outside this file.
 */

/** The directory lists (the API's path segment) and their items. */
export type DirectoryCollection = 'users' | 'groups';
export type DirectoryItem = 'user' | 'group';

/** What a page of the users or groups list is asked with. */
export interface ListParams {
  search: string;
  filters: Record<string, string | undefined>;
  page: number;
  pageSize: number;
}

/** What a page of the sync history is asked with. */
export interface RunsParams {
  offset: number;
  filter: Record<string, string | undefined>;
}

const scope = (org: string) => ['org', org] as const;
const serviceOverview = ['service-overview'] as const;
const list = (org: string, collection: DirectoryCollection) => [...scope(org), collection] as const;
const items = (org: string, item: DirectoryItem) => [...scope(org), item] as const;
const memberSuggestions = (org: string) => [...scope(org), 'member-suggestions'] as const;
const notifications = (org: string) => [...scope(org), 'notifications'] as const;
const runs = (org: string) => [...scope(org), 'runs'] as const;
const plans = (org: string) => [...scope(org), 'plan'] as const;

export const keys = {
  /** GET /me: an end user's own profile. */
  me: ['me'] as const,
  /** GET /orgs: the organizations an operator sees. */
  orgs: ['orgs'] as const,
  /** GET /overview: every organization at a glance (operators); its pages under it. */
  serviceOverview,
  serviceOverviewPage: (query: string) => [...serviceOverview, query] as const,

  /** Everything of one organization. */
  org: scope,
  /** GET /orgs/{org}: the organization itself (name, domains, licensed seats). */
  organization: (org: string) => [...scope(org), 'detail'] as const,
  /** The users or groups list: every page, and the count the overview shows. */
  list,
  listPage: (org: string, collection: DirectoryCollection, params: ListParams) =>
    [...list(org, collection), 'page', params] as const,
  listCount: (org: string, collection: DirectoryCollection) => [...list(org, collection), 'count'] as const,
  /** Every user or group read alone, and one of them. */
  items,
  item: (org: string, item: DirectoryItem, id: string | undefined) => [...items(org, item), id] as const,
  /** Addresses offered in a group's members field. */
  memberSuggestions,
  memberSuggestionsFor: (org: string, search: string) => [...memberSuggestions(org), search] as const,
  domains: (org: string) => [...scope(org), 'domains'] as const,
  entraSettings: (org: string) => [...scope(org), 'entra-settings'] as const,
  automation: (org: string) => [...scope(org), 'automation'] as const,
  apiTokens: (org: string) => [...scope(org), 'api-tokens'] as const,
  audit: (org: string, limit: string) => [...scope(org), 'audit', limit] as const,
  /** GET …/overview: connection health, last and next sync, a held run. */
  overview: (org: string) => [...scope(org), 'overview'] as const,
  notifications,
  unreadNotifications: (org: string) => [...notifications(org), 'unread'] as const,
  /** The sync history: its pages and every run read alone. */
  runs,
  runsPage: (org: string, params: RunsParams) => [...runs(org), 'page', params] as const,
  run: (org: string, runId: string | undefined) => [...runs(org), 'detail', runId] as const,
  /** Stored plans (previews and held runs' plans), read back whole. */
  plans,
  plan: (org: string, planId: string | null) => [...plans(org), planId] as const,
  /** One Search job, and the organization's latest one. */
  search: (org: string, searchId: string | null) => [...scope(org), 'search', searchId] as const,
  latestSearch: (org: string) => [...scope(org), 'searches', 'latest'] as const,
};

/**
 * After a user or group was added, edited, deleted or exempted: every list, count and item of the
 * directory, and the member suggestions. Groups list their members by address, so a user's change
 * shows in groups too, and a group's in the groups that contain it.
 */
export function afterDirectoryChange(queryClient: QueryClient, org: string): void {
  for (const key of [
    keys.list(org, 'users'),
    keys.list(org, 'groups'),
    keys.items(org, 'user'),
    keys.items(org, 'group'),
    keys.memberSuggestions(org),
  ])
    void queryClient.invalidateQueries({ queryKey: key });
}

/**
 * After a sync was applied (executed, or a held run approved or dismissed): the directory, the
 * history, the overview, the notifications, the operators' overview, and every stored plan (spent
 * or out of date now). Plans are only marked stale, not read again while on screen: a page that
 * shows one asks again when it next opens it.
 */
export function afterSync(queryClient: QueryClient, org: string): void {
  afterDirectoryChange(queryClient, org);
  for (const key of [keys.runs(org), keys.overview(org), keys.notifications(org), keys.serviceOverview])
    void queryClient.invalidateQueries({ queryKey: key });
  void queryClient.invalidateQueries({ queryKey: keys.plans(org), refetchType: 'none' });
}

/** After a domain was added, proven or removed: the organization, its domains, and the list of organizations. */
export function afterDomainsChange(queryClient: QueryClient, org: string): void {
  for (const key of [keys.organization(org), keys.domains(org), keys.orgs])
    void queryClient.invalidateQueries({ queryKey: key });
}

/**
 * After an organization itself changed (its licensed seats): the list of organizations and every
 * organization read alone, whichever reference (id or domain) the page used for it.
 */
export function afterOrganizationChange(queryClient: QueryClient): void {
  void queryClient.invalidateQueries({ queryKey: keys.orgs });
  void queryClient.invalidateQueries({
    predicate: ({ queryKey }) => queryKey[0] === 'org' && queryKey[2] === 'detail',
  });
}

/** After notifications were marked read: the notifications, and the overview that counts them. */
export function afterNotificationsRead(queryClient: QueryClient, org: string): void {
  void queryClient.invalidateQueries({ queryKey: keys.notifications(org) });
  void queryClient.invalidateQueries({ queryKey: keys.overview(org) });
}
