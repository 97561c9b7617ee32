import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { type ReactNode, useDeferredValue, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import type { RunListQuery } from '../../../src/contract/sync.js';
import { api, query } from '../api/client';
import { keys } from '../api/keys';
import {
  CATEGORIES,
  type ChangeOutcome,
  type RunStatus,
  type SyncRun,
  type SyncRunDetail,
} from '../api/types';
import { CATEGORY_LABELS, ChangeDetail } from '../components/changes';
import { duration, ErrorAlert, Loading, RunErrors, when } from '../components/common';
import { RunCsvLink } from '../components/csv-link';
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

const TRIGGER_FILTERS = [
  { value: '', label: 'Any trigger' },
  { value: 'manual', label: 'Manual' },
  { value: 'scheduled', label: 'Automatic' },
];
const STATUS_FILTERS = [
  { value: '', label: 'Any status' },
  ...Object.entries(STATUS).map(([value, s]) => ({ value, label: s.label })),
];
/** The filters the URL carries (so a filtered list can be reloaded, shared, and come back to). */
const FILTERS = ['trigger', 'status', 'from', 'to'] as const;

/** Every sync run of the organization, newest first, filterable by trigger, status and start date. */
export function HistoryPage() {
  const org = useOrgRef();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const filter = Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const setFilter = (changes: Partial<Record<(typeof FILTERS)[number] | 'offset', string>>) => {
    const next = new URLSearchParams(params);
    // A new filter starts again at the newest page.
    if (!('offset' in changes)) next.delete('offset');
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    setParams(next, { replace: true });
  };
  // One more than a page tells whether there is an older page without a total count.
  const runs = useQuery({
    queryKey: keys.runsPage(org, { offset, filter }),
    queryFn: () =>
      api<SyncRun[]>(
        'GET',
        `${orgPath(org)}/sync/runs${query({ limit: PAGE + 1, offset, ...filter } satisfies Partial<RunListQuery>)}`,
      ),
    placeholderData: keepPreviousData,
  });
  const rows = (runs.data ?? []).slice(0, PAGE);
  const hasOlder = (runs.data?.length ?? 0) > PAGE;
  const filtered = FILTERS.some((f) => filter[f]);

  return (
    <Stack>
      <Title order={1}>Sync history</Title>
      <Group align="flex-end">
        <Select
          label="Trigger"
          data={TRIGGER_FILTERS}
          value={filter.trigger}
          onChange={(v) => setFilter({ trigger: v ?? '' })}
          allowDeselect={false}
          w={160}
        />
        <Select
          label="Status"
          data={STATUS_FILTERS}
          value={filter.status}
          onChange={(v) => setFilter({ status: v ?? '' })}
          allowDeselect={false}
          w={200}
        />
        <TextInput
          type="date"
          label="Started from"
          description="UTC day"
          value={filter.from}
          onChange={(e) => setFilter({ from: e.currentTarget.value })}
          w={170}
        />
        <TextInput
          type="date"
          label="Started until"
          description="UTC day, included"
          value={filter.to}
          onChange={(e) => setFilter({ to: e.currentTarget.value })}
          w={170}
        />
        {filtered && (
          <Button variant="subtle" onClick={() => setFilter({ trigger: '', status: '', from: '', to: '' })}>
            Clear filters
          </Button>
        )}
      </Group>
      {runs.error && <ErrorAlert error={runs.error} />}
      <DataTable
        aria-label="Sync runs"
        withTableBorder
        striped
        highlightOnHover
        minHeight={160}
        fetching={runs.isFetching}
        records={rows}
        noRecordsText={filtered ? 'No run matches the filters.' : 'No sync has run yet.'}
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
          { accessor: 'actor', title: 'Who', render: (r) => <Who run={r} /> },
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
          onClick={() => setFilter({ offset: String(Math.max(0, offset - PAGE)) })}
        >
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!hasOlder}
          onClick={() => setFilter({ offset: String(offset + PAGE) })}
        >
          Older
        </Button>
      </Group>
    </Stack>
  );
}

/** Who started a run, and who decided it when it was held: "scheduler · approved by alice@…". */
function Who({ run }: { run: SyncRun }) {
  const decision = run.summary.decision;
  return (
    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
      {run.actor}
      {decision ? ` · ${decision.action} by ${decision.by}` : ''}
    </Text>
  );
}

/** The decision on a held run in a sentence: "Approved by alice@… at 1 June 2025, 10:02". */
export function decisionText(decision: NonNullable<SyncRun['summary']['decision']>): string {
  return `${decision.action === 'approved' ? 'Approved' : 'Dismissed'} by ${decision.by} at ${when(decision.at)}`;
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
    queryKey: keys.run(org, runId),
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
              {s.decision && (
                <Table.Tr>
                  <Table.Th>Decision</Table.Th>
                  <Table.Td data-testid="run-decision">{decisionText(s.decision)}</Table.Td>
                </Table.Tr>
              )}
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
      {r.detail && <Outcomes outcomes={r.detail} csv={<RunCsvLink org={org} runId={r.id} />} />}
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
function Outcomes({ outcomes, csv }: { outcomes: ChangeOutcome[]; csv: ReactNode }) {
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
        <Group justify="space-between">
          <Title order={2} size="h4" id="changes-title">
            Changes ({outcomes.length})
          </Title>
          {csv}
        </Group>
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
            {
              accessor: 'address',
              title: 'Address',
              render: (o) => (
                <Text size="sm" style={WRAP}>
                  {o.address ?? '—'}
                </Text>
              ),
            },
            {
              accessor: 'name',
              title: 'Name',
              render: (o) => (
                <Text size="sm" style={WRAP}>
                  {o.name}
                </Text>
              ),
            },
            {
              accessor: 'outcome',
              title: 'Outcome',
              render: (o) => (
                <Badge
                  variant="light"
                  miw="max-content"
                  color={o.outcome === 'applied' ? 'green' : o.outcome === 'conflict' ? 'orange' : 'gray'}
                >
                  {o.outcome === 'excluded' ? 'Unticked' : o.outcome === 'conflict' ? 'Conflict' : 'Applied'}
                </Badge>
              ),
            },
            {
              accessor: 'detail',
              title: 'Detail',
              render: (o) => <OutcomeDetail outcome={o} />,
            },
          ]}
        />
      </Stack>
    </Card>
  );
}

/** Long addresses, alias lists and sentences wrap inside their cell instead of widening the table. */
const WRAP = { overflowWrap: 'anywhere', whiteSpace: 'normal' } as const;

const ROLE_LABELS: Record<string, string> = {
  end_user: 'End User',
  silent_user: 'Silent User',
  org_admin: 'Organization admin',
};

/**
 * What a change of the run did: why it was not applied (a conflict), the user or group added
 * (role, aliases, status, functional mailbox; kind, address, members), what a removal took away,
 * an update's before → after. "—" only where the run recorded nothing (runs from before these
 * details were kept).
 */
function OutcomeDetail({ outcome: o }: { outcome: ChangeOutcome }) {
  const conflict = o.message ? (
    <Text size="xs" c="orange.9" style={WRAP}>
      {o.message}
    </Text>
  ) : null;
  let detail: ReactNode = null;
  if (o.kind === 'update_user' || o.kind === 'update_group') {
    detail = o.after ? <ChangeDetail change={o} /> : null;
  } else {
    const record = o.user ? userLine(o.user) : o.group ? groupLine(o.group) : null;
    const removal = o.kind === 'remove_user' || o.kind === 'remove_group';
    const lines = removal ? [o.why, record && `Removed: ${record}`] : [record];
    const shown = lines.filter((l): l is string => Boolean(l));
    detail = shown.length ? (
      <Stack gap={0}>
        {shown.map((line) => (
          <Text key={line} size="xs" style={WRAP}>
            {line}
          </Text>
        ))}
      </Stack>
    ) : null;
  }
  if (!conflict && !detail) return <>—</>;
  return (
    <Stack gap={2}>
      {conflict}
      {detail}
    </Stack>
  );
}

function userLine(u: NonNullable<ChangeOutcome['user']>): string {
  return [
    u.email,
    ROLE_LABELS[u.role] ?? u.role,
    u.status === 'inactive' ? 'inactive (disabled in Entra)' : 'active',
    u.functional ? `functional mailbox (${u.mailbox})` : null,
    u.aliases.length ? `aliases: ${u.aliases.join(', ')}` : 'no aliases',
  ]
    .filter(Boolean)
    .join(' · ');
}

function groupLine(g: NonNullable<ChangeOutcome['group']>): string {
  return [
    `${g.kind === 'security' ? 'Security' : 'Distribution'} group ${g.name}`,
    g.email ?? 'no address',
    g.aliases.length ? `aliases: ${g.aliases.join(', ')}` : null,
    `${g.memberCount} ${g.memberCount === 1 ? 'member' : 'members'}`,
  ]
    .filter(Boolean)
    .join(' · ');
}
