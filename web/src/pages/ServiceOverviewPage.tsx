import { Anchor, Badge, Group, Select, Stack, Text, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { DataTable, type DataTableSortStatus } from 'mantine-datatable';
import { Link, Navigate, useSearchParams } from 'react-router';
import type { ServiceOverview } from '../../../src/contract/overview.js';
import { OVERVIEW_SORTS } from '../../../src/contract/words.js';
import { api } from '../api/client';
import { keys } from '../api/keys';
import type { Attention, AttentionItem } from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { homeOf, useSession } from '../session';

/** One organization of GET /api/v1/overview, typed by the server's own definition. */
type OverviewItem = AttentionItem;

const ATTENTION: Record<Attention, { label: string; color: string }> = {
  failing: { label: 'Failing', color: 'red' },
  held: { label: 'Held run', color: 'orange' },
  key_expired: { label: 'Key expired', color: 'red' },
  key_expiring: { label: 'Key expiring', color: 'yellow' },
  never_synced: { label: 'Never synced', color: 'gray' },
  ok: { label: 'OK', color: 'green' },
};

const NEEDS = [
  { value: 'all', label: 'All organizations' },
  { value: 'any', label: 'Needing attention' },
  { value: 'failing', label: 'Failing or unhealthy connection' },
  { value: 'held', label: 'Held run' },
  { value: 'key', label: 'Key expired or expiring' },
  { value: 'never', label: 'Never synced' },
];
type Sort = (typeof OVERVIEW_SORTS)[number];
const PAGE_SIZES = [25, 50, 100, 250];

function AttentionBadge({ attention }: { attention: Attention }) {
  const { label, color } = ATTENTION[attention];
  return (
    <Badge
      color={color}
      variant={attention === 'ok' ? 'light' : 'filled'}
      style={{ flexShrink: 0, overflow: 'visible' }}
    >
      {label}
    </Badge>
  );
}

/** What else needs attention, and why it fails: a short line under the badge. */
function details(o: OverviewItem): string {
  const parts = o.reasons.slice(1).map((r) => ATTENTION[r].label.toLowerCase());
  if (o.health.lastError) parts.push(o.health.lastError.message || o.health.lastError.code);
  return parts.join(' · ');
}

/**
 * Operators: every organization ranked by what needs attention — failing, held, key expiring,
 * never synced — sortable, filtered and paged on the server; the state lives in the URL.
 */
export function ServiceOverviewPage() {
  const { session } = useSession();
  const [params, setParams] = useSearchParams();
  const sort: Sort = OVERVIEW_SORTS.find((s) => s === params.get('sort')) ?? 'attention';
  const order = params.get('order') === 'desc' ? 'desc' : 'asc';
  const needs = NEEDS.some((n) => n.value === params.get('needs')) ? params.get('needs')! : 'all';
  const pageSize = PAGE_SIZES.find((n) => String(n) === params.get('size')) ?? 50;
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const isOperator = session?.principal.type === 'operator';

  const query = new URLSearchParams({
    sort,
    order,
    limit: String(pageSize),
    offset: String((page - 1) * pageSize),
  });
  if (needs !== 'all') query.set('needs', needs);
  const overview = useQuery({
    queryKey: keys.serviceOverviewPage(query.toString()),
    queryFn: () => api<ServiceOverview>('GET', `/overview?${query}`),
    placeholderData: keepPreviousData,
    enabled: isOperator,
  });

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) next.delete(k);
      else next.set(k, v);
    }
    setParams(next, { replace: true });
  };

  if (session && !isOperator) return <Navigate to={homeOf(session)} replace />;

  const sortStatus: DataTableSortStatus<OverviewItem> = {
    columnAccessor: sort,
    direction: order,
  };

  return (
    <Stack>
      <Title order={1}>Service overview</Title>
      <Text c="dimmed">
        Every organization by what needs attention: a failing or unhealthy connection first, then a run held
        for approval, an expired or expiring key (within 30 days), never synced; then the rest.
      </Text>
      <Group align="flex-end">
        <Select
          label="Show"
          data={NEEDS}
          value={needs}
          onChange={(value) => update({ needs: value && value !== 'all' ? value : null, page: null })}
          allowDeselect={false}
          w={320}
        />
        {overview.data && (
          <Text size="sm" c="dimmed" aria-live="polite">
            {overview.data.total} {overview.data.total === 1 ? 'organization' : 'organizations'}
          </Text>
        )}
      </Group>
      {overview.error && <ErrorAlert error={overview.error} />}
      <DataTable<OverviewItem>
        aria-label="Organizations by attention"
        withTableBorder
        striped
        minHeight={160}
        fetching={overview.isFetching}
        records={overview.data?.items ?? []}
        idAccessor="id"
        totalRecords={overview.data?.total ?? 0}
        page={page}
        onPageChange={(p) => update({ page: String(p) })}
        recordsPerPage={pageSize}
        recordsPerPageOptions={PAGE_SIZES}
        onRecordsPerPageChange={(n) => update({ size: String(n), page: null })}
        sortStatus={sortStatus}
        onSortStatusChange={(s) => update({ sort: String(s.columnAccessor), order: s.direction, page: null })}
        noRecordsText={needs === 'all' ? 'No organizations yet.' : 'No organization needs this.'}
        columns={[
          {
            accessor: 'attention',
            title: 'Attention',
            sortable: true,
            render: (o) => (
              <Stack gap={2} align="flex-start">
                <AttentionBadge attention={o.attention} />
                {details(o) && (
                  <Text size="xs" c="dimmed" lineClamp={2}>
                    {details(o)}
                  </Text>
                )}
              </Stack>
            ),
          },
          {
            accessor: 'name',
            title: 'Organization',
            sortable: true,
            render: (o) => (
              <Anchor component={Link} to={`/orgs/${o.id}/overview`}>
                {o.name}
              </Anchor>
            ),
          },
          { accessor: 'domains', title: 'Domains' },
          {
            accessor: 'connected',
            title: 'Connection',
            render: (o) => (!o.connected ? 'Not connected' : o.health.healthy ? 'Healthy' : 'Unhealthy'),
          },
          {
            accessor: 'lastRun',
            title: 'Last run',
            render: (o) =>
              o.lastRun ? `${o.lastRun.status.replaceAll('_', ' ')}, ${when(o.lastRun.startedAt)}` : 'Never',
          },
          {
            accessor: 'lastSuccess',
            title: 'Last success',
            sortable: true,
            render: (o) => (o.lastSuccessAt ? when(o.lastSuccessAt) : 'Never'),
          },
          {
            accessor: 'key',
            title: 'Key expires',
            render: (o) =>
              o.key
                ? `${o.key.expiresAt}${o.key.daysLeft <= 0 ? ' (expired)' : o.key.daysLeft <= 30 ? ` (${o.key.daysLeft} days)` : ''}`
                : '—',
          },
          {
            accessor: 'frequencyHours',
            title: 'Schedule',
            render: (o) =>
              !o.connected ? '—' : o.frequencyHours ? `Every ${o.frequencyHours} h` : 'Manual only',
          },
        ]}
      />
    </Stack>
  );
}
