import { Anchor, Code, Group, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useDeferredValue, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api, query } from '../api/client';
import { keys } from '../api/keys';
import type { AuditEntry } from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { orgPath, useOrgRef } from '../components/hooks';

const LIMITS = ['50', '100', '500', '1000'];
const PAGE_SIZE = 50;

/** The detail of an entry in one line: what changed, as the server recorded it. */
function detailText(detail: unknown): string {
  if (detail === null || detail === undefined) return '';
  return typeof detail === 'string' ? detail : JSON.stringify(detail);
}

const TARGET_TYPES: Record<string, string> = {
  user: 'User',
  group: 'Group',
  sync_run: 'Sync run',
  organization: 'Organization',
  domain: 'Domain',
  operator: 'Operator',
};

/**
 * What an entry is about, by the name people know it (an address, a group's name, a run's
 * start; recorded with the entry, so a deleted object still reads well), its id on hover. A
 * run links to its page. Entries without a recorded name show the id.
 */
function Target({ org, entry: e }: { org: string; entry: AuditEntry }) {
  const type = TARGET_TYPES[e.targetType] ?? e.targetType;
  if (!e.targetId) return <>{type}</>;
  const name = e.targetLabel ?? e.targetId;
  const title = `${e.targetType} ${e.targetId}`;
  return (
    <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
      {type}{' '}
      {e.targetType === 'sync_run' ? (
        <Anchor component={Link} to={`/orgs/${org}/history/${encodeURIComponent(e.targetId)}`} title={title}>
          {name}
        </Anchor>
      ) : (
        <span title={title}>{name}</span>
      )}
    </Text>
  );
}

/** Who changed what in the organization, newest first. */
export function AuditPage() {
  const org = useOrgRef();
  const [limit, setLimit] = useState('100');
  const [filter, setFilter] = useState('');
  const needle = useDeferredValue(filter.trim().toLowerCase());
  const [page, setPage] = useState(1);
  const audit = useQuery({
    queryKey: keys.audit(org, limit),
    queryFn: () => api<AuditEntry[]>('GET', `${orgPath(org)}/audit${query({ limit })}`),
    placeholderData: keepPreviousData,
  });
  const shown = useMemo(
    () =>
      (audit.data ?? []).filter(
        (e) =>
          !needle ||
          `${e.actor} ${e.action} ${e.targetType} ${e.targetLabel ?? ''} ${e.targetId ?? ''} ${detailText(e.detail)}`
            .toLowerCase()
            .includes(needle),
      ),
    [audit.data, needle],
  );
  const current = Math.min(page, Math.max(1, Math.ceil(shown.length / PAGE_SIZE)));

  return (
    <Stack>
      <Title order={1}>Audit log</Title>
      <Text c="dimmed">Every change to this organization, by whom and when, newest first.</Text>
      <Group align="flex-end">
        <Select
          label="Entries"
          description="The newest this many."
          data={LIMITS}
          value={limit}
          onChange={(v) => {
            if (v) setLimit(v);
            setPage(1);
          }}
          allowDeselect={false}
          w={160}
        />
        <TextInput
          label="Filter entries"
          description="By who, action, target or detail."
          value={filter}
          onChange={(e) => {
            setFilter(e.currentTarget.value);
            setPage(1);
          }}
          w={320}
        />
      </Group>
      {audit.error && <ErrorAlert error={audit.error} />}
      <DataTable
        aria-label="Audit log"
        withTableBorder
        striped
        verticalAlign="top"
        minHeight={160}
        fetching={audit.isFetching}
        records={shown.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE)}
        totalRecords={shown.length}
        page={current}
        onPageChange={setPage}
        recordsPerPage={PAGE_SIZE}
        noRecordsText={needle ? 'No entry matches the filter.' : 'Nothing recorded yet.'}
        columns={[
          { accessor: 'at', title: 'When', render: (e) => when(e.at) },
          { accessor: 'actor', title: 'Who' },
          { accessor: 'action', title: 'Action', render: (e) => <Code>{e.action}</Code> },
          { accessor: 'target', title: 'Target', render: (e) => <Target org={org} entry={e} /> },
          {
            accessor: 'detail',
            title: 'Detail',
            render: (e) => (
              <Text size="xs" style={{ wordBreak: 'break-word' }}>
                {detailText(e.detail)}
              </Text>
            ),
          },
        ]}
      />
    </Stack>
  );
}
