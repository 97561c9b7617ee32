import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useDeferredValue, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api, query } from '../api/client';
import {
  CATEGORIES,
  type ChangeOutcome,
  type RunStatus,
  type SyncRun,
  type SyncRunDetail,
} from '../api/types';
import { CATEGORY_LABELS, ChangeDetail } from '../components/changes';
import { duration, ErrorAlert, Loading, RunErrors, when } from '../components/common';
import { HeldRun, HeldRunReview } from '../components/HeldRun';
import { orgPath, useOrgRef } from '../components/hooks';
import { seatsChange, seatsOver, seatsText } from '../components/seats';
import { SkippedTable } from '../components/skipped';

const STATUS: Record<RunStatus, { label: string; color: string }> = {
  running: { label: 'Running', color: 'blue' },
  succeeded: { label: 'Succeeded', color: 'green' },
  completed_with_conflicts: { label: 'Done, with conflicts', color: 'orange' },
  failed: { label: 'Failed', color: 'red' },
  held: { label: 'Held for review', color: 'orange' },
  dismissed: { label: 'Dismissed', color: 'gray' },
};

export function StatusBadge({ status }: { status: RunStatus }) {
  const s = STATUS[status] ?? { label: status, color: 'gray' };
  return (
    <Badge color={s.color} variant="light" miw="max-content">
      {s.label}
    </Badge>
  );
}

export function triggerName(trigger: string): string {
  return trigger === 'scheduled' ? 'Automatic' : trigger === 'manual' ? 'Manual' : trigger;
}

/** Changes applied by a run, all categories together. */
export function appliedTotal(run: SyncRun): number {
  return Object.values(run.summary.applied ?? {}).reduce((n, v) => n + (v ?? 0), 0);
}

const PAGE = 25;

/** Every sync run of the organization, newest first. */
export function HistoryPage() {
  const org = useOrgRef();
  const navigate = useNavigate();
  const [offset, setOffset] = useState(0);
  // One more than a page tells whether there is an older page without a total count.
  const runs = useQuery({
    queryKey: ['runs', org, offset],
    queryFn: () => api<SyncRun[]>('GET', `${orgPath(org)}/sync/runs${query({ limit: PAGE + 1, offset })}`),
    placeholderData: keepPreviousData,
  });
  const rows = (runs.data ?? []).slice(0, PAGE);
  const hasOlder = (runs.data?.length ?? 0) > PAGE;

  return (
    <Stack>
      <Title order={1}>Sync history</Title>
      {runs.error && <ErrorAlert error={runs.error} />}
      <DataTable
        aria-label="Sync runs"
        withTableBorder
        striped
        highlightOnHover
        minHeight={160}
        fetching={runs.isFetching}
        records={rows}
        noRecordsText="No sync has run yet."
        onRowClick={({ record }) => navigate(`/orgs/${org}/history/${record.id}`)}
        columns={[
          {
            accessor: 'startedAt',
            title: 'Started',
            render: (r) => (
              <Anchor component={Link} to={`/orgs/${org}/history/${r.id}`}>
                {when(r.startedAt)}
              </Anchor>
            ),
          },
          { accessor: 'trigger', title: 'Trigger', render: (r) => triggerName(r.trigger) },
          { accessor: 'actor', title: 'Who' },
          { accessor: 'duration', title: 'Duration', render: (r) => duration(r.startedAt, r.finishedAt) },
          { accessor: 'status', title: 'Status', render: (r) => <StatusBadge status={r.status} /> },
          { accessor: 'applied', title: 'Applied', render: (r) => appliedTotal(r) },
          { accessor: 'excluded', title: 'Unticked', render: (r) => r.summary.excluded ?? 0 },
          { accessor: 'skipped', title: 'Skipped', render: (r) => r.summary.skipped ?? 0 },
          {
            accessor: 'seats',
            title: 'Billable users',
            render: ({ summary: { seats } }) =>
              seats
                ? `${seatsChange(seats)}${seatsOver(seats) ? ` (${seatsOver(seats)} over licence)` : ''}`
                : '—',
          },
          {
            accessor: 'errors',
            title: 'Errors',
            render: (r) => (r.summary.errors?.length ?? 0) + (r.summary.conflicts?.length ?? 0),
          },
        ]}
      />
      <Group>
        <Button
          variant="default"
          disabled={offset === 0}
          onClick={() => setOffset(Math.max(0, offset - PAGE))}
        >
          Newer
        </Button>
        <Button variant="default" disabled={!hasOlder} onClick={() => setOffset(offset + PAGE)}>
          Older
        </Button>
      </Group>
    </Stack>
  );
}

const OUTCOMES = [
  { value: 'all', label: 'All' },
  { value: 'applied', label: 'Applied' },
  { value: 'excluded', label: 'Unticked' },
  { value: 'conflict', label: 'Conflicts' },
];

/** One run: when, who, counts per category, errors, skipped entries and every change's outcome. */
export function RunPage() {
  const org = useOrgRef();
  const { runId } = useParams();
  const run = useQuery({
    queryKey: ['runs', org, 'detail', runId],
    queryFn: () => api<SyncRunDetail>('GET', `${orgPath(org)}/sync/runs/${encodeURIComponent(runId!)}`),
  });
  if (run.isPending) return <Loading />;
  if (run.error) return <ErrorAlert error={run.error} />;
  const r = run.data;
  const s = r.summary;
  const errors = s.errors ?? [];
  const skipped = s.skippedEntries ?? [];
  return (
    <Stack>
      <Anchor component={Link} to={`/orgs/${org}/history`}>
        ← Sync history
      </Anchor>
      <Group>
        <Title order={1}>Sync run of {when(r.startedAt)}</Title>
        <StatusBadge status={r.status} />
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Table variant="vertical" withRowBorders={false}>
            <Table.Tbody>
              <Table.Tr>
                <Table.Th w={160}>Trigger</Table.Th>
                <Table.Td>{triggerName(r.trigger)}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>Who</Table.Th>
                <Table.Td>{r.actor}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>Started</Table.Th>
                <Table.Td>{when(r.startedAt)}</Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>Finished</Table.Th>
                <Table.Td>
                  {when(r.finishedAt)} ({duration(r.startedAt, r.finishedAt)})
                </Table.Td>
              </Table.Tr>
              <Table.Tr>
                <Table.Th>Unchanged</Table.Th>
                <Table.Td>{s.unchanged ?? 0}</Table.Td>
              </Table.Tr>
              {s.seats && (
                <Table.Tr>
                  <Table.Th>Billable users</Table.Th>
                  <Table.Td c={seatsOver(s.seats) ? 'orange.9' : undefined}>
                    {seatsText(s.seats)}
                    {seatsOver(s.seats) ? ` · ${seatsOver(s.seats)} more than the licence covers` : ''}
                  </Table.Td>
                </Table.Tr>
              )}
              {s.read && (
                <Table.Tr>
                  <Table.Th>Read from Entra</Table.Th>
                  <Table.Td>
                    {s.read.objects.users} users, {s.read.objects.groups} groups ({s.read.mode} read,{' '}
                    {s.read.requests} requests)
                  </Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
        </Card>
        <Card withBorder>
          <Table aria-label="Applied per category">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Category</Table.Th>
                {s.planned && <Table.Th>Planned</Table.Th>}
                <Table.Th>Applied</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {CATEGORIES.map((c) => (
                <Table.Tr key={c}>
                  <Table.Td>{CATEGORY_LABELS[c]}</Table.Td>
                  {s.planned && <Table.Td>{s.planned[c] ?? 0}</Table.Td>}
                  <Table.Td>{s.applied?.[c] ?? 0}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          <Text size="sm" mt="xs">
            Unticked: {s.excluded ?? 0} · Conflicts: {s.conflicts?.length ?? 0} · Skipped: {s.skipped ?? 0}
          </Text>
        </Card>
      </SimpleGrid>
      {r.status === 'held' &&
        (r.planId ? (
          <HeldRunReview org={org} runId={r.id} planId={r.planId} reason={s.held?.message ?? null} />
        ) : (
          <HeldRun org={org} runId={r.id} reason={s.held?.message ?? null} />
        ))}
      <RunErrors errors={errors} />
      {r.detail && <Outcomes outcomes={r.detail} />}
      {(skipped.length > 0 || (s.expectedLeftOut?.initialDomainAliases ?? 0) > 0) && (
        <Card withBorder component="section" aria-labelledby="skipped-title">
          <Title order={2} size="h4" id="skipped-title" mb="xs">
            Skipped ({skipped.length})
          </Title>
          <SkippedTable entries={skipped} expected={s.expectedLeftOut} label="Skipped entries of this run" />
        </Card>
      )}
    </Stack>
  );
}

/** Every change of the run with its outcome, filterable by outcome and text, paged. */
function Outcomes({ outcomes }: { outcomes: ChangeOutcome[] }) {
  const [kind, setKind] = useState('all');
  const [filter, setFilter] = useState('');
  const needle = useDeferredValue(filter.trim().toLowerCase());
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const shown = useMemo(
    () =>
      outcomes.filter(
        (o) =>
          (kind === 'all' || o.outcome === kind) &&
          (!needle || `${o.address ?? ''} ${o.name} ${o.externalId}`.toLowerCase().includes(needle)),
      ),
    [outcomes, kind, needle],
  );
  const current = Math.min(page, Math.max(1, Math.ceil(shown.length / pageSize)));
  return (
    <Card withBorder component="section" aria-labelledby="changes-title">
      <Stack>
        <Title order={2} size="h4" id="changes-title">
          Changes ({outcomes.length})
        </Title>
        <Group align="flex-end">
          <SegmentedControl aria-label="Outcome" data={OUTCOMES} value={kind} onChange={setKind} />
          <TextInput
            label="Filter changes"
            value={filter}
            onChange={(e) => setFilter(e.currentTarget.value)}
          />
        </Group>
        <DataTable
          aria-label="Changes of this run"
          withTableBorder
          striped
          verticalAlign="top"
          idAccessor="id"
          records={shown.slice((current - 1) * pageSize, current * pageSize)}
          totalRecords={shown.length}
          page={current}
          onPageChange={setPage}
          recordsPerPage={pageSize}
          recordsPerPageOptions={[25, 50, 100, 200]}
          onRecordsPerPageChange={(n) => {
            setPageSize(n);
            setPage(1);
          }}
          noRecordsText="No change matches."
          columns={[
            { accessor: 'category', title: 'Category', render: (o) => CATEGORY_LABELS[o.category] },
            { accessor: 'address', title: 'Address', render: (o) => o.address ?? '—' },
            { accessor: 'name', title: 'Name' },
            {
              accessor: 'outcome',
              title: 'Outcome',
              render: (o) => (
                <Badge
                  variant="light"
                  color={o.outcome === 'applied' ? 'green' : o.outcome === 'conflict' ? 'orange' : 'gray'}
                >
                  {o.outcome === 'excluded' ? 'Unticked' : o.outcome === 'conflict' ? 'Conflict' : 'Applied'}
                </Badge>
              ),
            },
            {
              accessor: 'detail',
              title: 'Detail',
              render: (o) =>
                o.message ? <Text size="xs">{o.message}</Text> : o.after ? <ChangeDetail change={o} /> : '—',
            },
          ]}
        />
      </Stack>
    </Card>
  );
}
