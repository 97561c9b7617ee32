import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, query } from '../api/client';
import type { Page } from '../api/types';
import { toast } from '../toast';
import { orgPath } from './hooks';

/** Which directory list: the API path segment, and the query-cache keys of its list and items. */
type Kind = { collection: 'users'; item: 'user' } | { collection: 'groups'; item: 'group' };
export const USERS: Kind = { collection: 'users', item: 'user' };
export const GROUPS: Kind = { collection: 'groups', item: 'group' };

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
    queryKey: [kind.collection, org, debounced, filters, page, pageSize],
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
      void queryClient.invalidateQueries({ queryKey: [kind.collection, org] });
      void queryClient.invalidateQueries({ queryKey: [kind.item, org, item.id] });
    },
    onError: (error) => toast({ color: 'red', title: 'Not changed', message: error.message }),
  });
}
