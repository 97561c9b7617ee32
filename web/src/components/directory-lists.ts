import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, query } from '../api/client';
import { afterDirectoryChange, type DirectoryCollection, keys } from '../api/keys';
import type { Page } from '../api/types';
import { toast } from '../toast';
import { orgPath } from './hooks';

/** Which directory list: the API path segment, also the kind of its query-cache keys. */
type Kind = { collection: DirectoryCollection };
export const USERS: Kind = { collection: 'users' };
export const GROUPS: Kind = { collection: 'groups' };

/** Page sizes offered under the users and groups lists. */
export const PAGE_SIZES = [25, 50, 100, 250];

/**
 * A searchable list paged on the server (users or groups): the search box (debounced), the page
 * and page size, filters sent as query parameters (the users' mailbox), and the query. A new
 * search, filter or page size starts again at page 1.
 */
export function useServerList<T>(org: string, kind: Kind) {
  const [search, setSearchText] = useState('');
  const [debounced] = useDebouncedValue(search.trim(), 250);
  const [page, setPage] = useState(1);
  const [pageSize, setPageSizeValue] = useState(50);
  const [filters, setFilters] = useState<Record<string, string | undefined>>({});
  const list = useQuery({
    queryKey: keys.listPage(org, kind.collection, { search: debounced, filters, page, pageSize }),
    queryFn: () =>
      api<Page<T>>(
        'GET',
        `${orgPath(org)}/${kind.collection}${query({ search: debounced, ...filters, limit: pageSize, offset: (page - 1) * pageSize })}`,
      ),
    placeholderData: keepPreviousData,
  });
  return {
    list,
    search,
    searching: debounced !== '',
    setSearch: (text: string) => {
      setSearchText(text);
      setPage(1);
    },
    filters,
    filtering: Object.values(filters).some(Boolean),
    /** Sets one filter; undefined removes it. */
    setFilter: (name: string, value: string | undefined) => {
      setFilters((current) => ({ ...current, [name]: value }));
      setPage(1);
    },
    page,
    setPage,
    pageSize,
    setPageSize: (n: number) => {
      setPageSizeValue(n);
      setPage(1);
    },
  };
}

/** Flips a user's or group's exempt-from-sync flag and refreshes what shows it. */
export function useExemptToggle<T extends { id: string; exempt: boolean }>(
  org: string,
  kind: Kind,
  label: (item: T) => string,
) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (item: { id: string; exempt: boolean }) =>
      api<T>('PATCH', `${orgPath(org)}/${kind.collection}/${item.id}`, { exempt: item.exempt }),
    onSuccess: (item) => {
      toast({
        color: 'green',
        message: item.exempt
          ? `${label(item)} is now exempt from sync: sync will not change or remove it.`
          : `${label(item)} is synced again.`,
      });
      afterDirectoryChange(queryClient, org);
    },
    onError: (error) => toast({ color: 'red', title: 'Not changed', message: error.message }),
  });
}
