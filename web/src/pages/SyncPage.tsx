import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Checkbox,
  Group,
  List,
  Modal,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useDeferredValue, useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client';
import {
  CATEGORIES,
  type Category,
  type Change,
  type EntraSettings,
  type ExecuteResult,
  type HowSwitches,
  type Preview,
  type SkippedEntry,
  type WhatSwitches,
} from '../api/types';
import { CATEGORY_LABELS, ChangeDetail, changeMailbox } from '../components/changes';
import { ErrorAlert, Loading, RunErrors, when } from '../components/common';
import { orgPath, useOrgRef } from '../components/hooks';
import { PreviewRecipients } from '../components/PreviewRecipients';
import { MailboxBadge } from '../components/recipients';
import { seatsText } from '../components/seats';
import { HOW_LABELS, WHAT_LABELS } from './EntraSettingsPage';

const HOW_WORDS: Record<keyof HowSwitches, string> = {
  addUsers: 'add-users',
  updateUsers: 'update-users',
  addGroups: 'add-groups',
  updateGroups: 'update-groups',
  removeUsers: 'remove-users',
  removeGroups: 'remove-groups',
};

const PAGE_SIZES = [25, 50, 100, 200];

/** User changes that carry the mailbox purpose (a removal does not): their tables have a Mailbox column. */
const MAILBOX_CATEGORIES: readonly Category[] = ['usersToAdd', 'usersToUpdate'];

/** Company Settings → Users & Groups → Azure Active Directory Sync: preview, untick, execute. */
export function SyncPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: ['entra-settings', org],
    queryFn: () => api<EntraSettings>('GET', `${orgPath(org)}/entra-settings`),
  });
  const [what, setWhat] = useState<WhatSwitches | null>(null);
  const [how, setHow] = useState<HowSwitches | null>(null);
  const [excluded, setExcluded] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);

  // This run's switches start as the saved ones; changing them here does not change the settings.
  useEffect(() => {
    if (settings.data) {
      setWhat((w) => w ?? { ...settings.data.what });
      setHow((h) => h ?? { ...settings.data.how });
    }
  }, [settings.data]);

  const preview = useMutation({
    mutationFn: () =>
      api<Preview>('POST', `${orgPath(org)}/sync/preview`, {
        what: Object.entries(what ?? {})
          .filter(([, on]) => on)
          .map(([k]) => k),
        how: Object.entries(how ?? {})
          .filter(([, on]) => on)
          .map(([k]) => HOW_WORDS[k as keyof HowSwitches]),
      }),
    onMutate: () => {
      setExcluded(new Set());
      execute.reset();
    },
  });
  const execute = useMutation({
    mutationFn: (plan: Preview) =>
      api<ExecuteResult>('POST', `${orgPath(org)}/sync/execute`, {
        planId: plan.planId,
        excludedChangeIds: [...excluded],
      }),
    onSuccess: () => {
      setConfirming(false);
      for (const key of ['users', 'groups', 'user', 'group', 'runs', 'overview'])
        void queryClient.invalidateQueries({ queryKey: [key, org] });
    },
  });

  if (settings.isPending) return <Loading />;
  if (settings.error) return <ErrorAlert error={settings.error} />;
  const plan = execute.data ? null : preview.data;
  const total = plan ? CATEGORIES.reduce((n, c) => n + plan[c].length, 0) : 0;
  const ticked = total - excluded.size;

  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Company Settings → Users &amp; Groups
        </Text>
        <Title order={1}>Azure Active Directory Sync</Title>
      </div>
      <Alert color="yellow" title="Automatic syncs apply everything">
        {settings.data.frequencyHours
          ? `This organization also syncs automatically every ${settings.data.frequencyHours} hour${settings.data.frequencyHours === 1 ? '' : 's'}. `
          : ''}
        Automatic syncs apply every change without review. Unticking a change here skips it for this run only;
        to keep a user or group out of every sync, mark it exempt from sync.
      </Alert>
      {!settings.data.configured && (
        <Alert color="blue">
          The connection to Azure Active Directory is not set up yet:{' '}
          <Anchor component={Link} to={`/orgs/${org}/settings/import-users/azure-ad`}>
            set it up under Import Users
          </Anchor>
          .
        </Alert>
      )}
      {what && how && (
        <Card withBorder component="section" aria-labelledby="run-options">
          <Title order={2} size="h4" id="run-options" mb="xs">
            This run
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Checkbox.Group
              label="What to sync"
              value={Object.entries(what)
                .filter(([, on]) => on)
                .map(([k]) => k)}
              onChange={(keys) =>
                setWhat({
                  users: keys.includes('users'),
                  distribution: keys.includes('distribution'),
                  security: keys.includes('security'),
                })
              }
            >
              <Stack gap={6} mt="xs">
                {(Object.keys(WHAT_LABELS) as Array<keyof WhatSwitches>).map((k) => (
                  <Checkbox key={k} value={k} label={WHAT_LABELS[k]} />
                ))}
              </Stack>
            </Checkbox.Group>
            <Checkbox.Group
              label="How to sync"
              value={Object.entries(how)
                .filter(([, on]) => on)
                .map(([k]) => k)}
              onChange={(keys) =>
                setHow(
                  Object.fromEntries(
                    (Object.keys(HOW_LABELS) as Array<keyof HowSwitches>).map((k) => [k, keys.includes(k)]),
                  ) as unknown as HowSwitches,
                )
              }
            >
              <Stack gap={6} mt="xs">
                {(Object.keys(HOW_LABELS) as Array<keyof HowSwitches>).map((k) => (
                  <Checkbox key={k} value={k} label={HOW_LABELS[k]} />
                ))}
              </Stack>
            </Checkbox.Group>
          </SimpleGrid>
          <Group mt="md">
            <Button
              onClick={() => preview.mutate()}
              loading={preview.isPending}
              disabled={!settings.data.configured}
            >
              Search
            </Button>
            <Text size="sm" c="dimmed">
              Reads the tenant and shows what a sync would change; nothing is written until you Execute.
            </Text>
          </Group>
        </Card>
      )}
      {preview.error && <ErrorAlert error={preview.error} title="The search failed" />}
      {plan && (
        <>
          <SwitchedOff plan={plan} />
          <PreviewRecipients plan={plan} />
          <PreviewResults plan={plan} excluded={excluded} setExcluded={setExcluded} />
          <Card withBorder>
            <Group justify="space-between">
              <Text>
                {ticked} of {total} changes ticked · {plan.unchanged} unchanged · {plan.skipped.length}{' '}
                skipped · preview valid until {when(plan.expiresAt)}
              </Text>
              <Button color="green" onClick={() => setConfirming(true)} disabled={total === 0}>
                Execute
              </Button>
            </Group>
          </Card>
          <Modal opened={confirming} onClose={() => setConfirming(false)} title="Execute the sync?">
            <Stack>
              <Text>
                Apply {ticked} ticked change{ticked === 1 ? '' : 's'}
                {excluded.size
                  ? ` and skip ${excluded.size} unticked (they will be planned again next time)`
                  : ''}
                ?
              </Text>
              <List size="sm">
                {CATEGORIES.filter((c) => plan[c].length).map((c) => (
                  <List.Item key={c}>
                    {CATEGORY_LABELS[c]}: {plan[c].filter((ch) => !excluded.has(ch.id)).length} of{' '}
                    {plan[c].length}
                  </List.Item>
                ))}
              </List>
              {execute.error && <ErrorAlert error={execute.error} title="Not executed" />}
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setConfirming(false)}>
                  Cancel
                </Button>
                <Button
                  color="green"
                  loading={execute.isPending}
                  onClick={() => execute.mutate(plan)}
                  data-autofocus
                >
                  Execute {ticked} change{ticked === 1 ? '' : 's'}
                </Button>
              </Group>
            </Stack>
          </Modal>
        </>
      )}
      {execute.data && <Outcome result={execute.data} onAgain={() => preview.mutate()} />}
    </Stack>
  );
}

/** Changes this run leaves out because their how-switch is off, so nobody wonders where they went. */
function SwitchedOff({ plan }: { plan: Preview }) {
  const off = CATEGORIES.filter((c) => (plan.switchedOff?.[c] ?? 0) > 0);
  if (!off.length) return null;
  return (
    <Alert color="gray" title="Not planned: switched off for this run">
      {off.map((c) => `${CATEGORY_LABELS[c]}: ${plan.switchedOff?.[c]}`).join(' · ')}. Turn the switch on
      under How to sync and Search again to see them.
    </Alert>
  );
}

/** The preview by category (tabs with counts), filterable, with a checkbox per change. */
function PreviewResults({
  plan,
  excluded,
  setExcluded,
}: {
  plan: Preview;
  excluded: ReadonlySet<string>;
  setExcluded: (next: ReadonlySet<string>) => void;
}) {
  const [filter, setFilter] = useState('');
  // Filtering 100,000 changes takes a few milliseconds; deferring keeps typing smooth meanwhile.
  const needle = useDeferredValue(filter.trim().toLowerCase());
  const firstNonEmpty = CATEGORIES.find((c) => plan[c].length) ?? 'usersToAdd';
  const [tab, setTab] = useState<string>(firstNonEmpty);

  const haystacks = useMemo(() => {
    const map = new Map<string, string>();
    for (const c of CATEGORIES)
      for (const ch of plan[c])
        map.set(ch.id, `${ch.address ?? ''} ${ch.name} ${ch.externalId}`.toLowerCase());
    return map;
  }, [plan]);
  const filtered = useMemo(() => {
    const out = {} as Record<Category, Change[]>;
    for (const c of CATEGORIES)
      out[c] = needle ? plan[c].filter((ch) => haystacks.get(ch.id)!.includes(needle)) : plan[c];
    return out;
  }, [plan, needle, haystacks]);
  const skipped = useMemo(
    () =>
      needle
        ? plan.skipped.filter((s) =>
            `${s.address ?? ''} ${s.name ?? ''} ${s.externalId ?? ''} ${s.reason} ${s.message}`
              .toLowerCase()
              .includes(needle),
          )
        : plan.skipped,
    [plan, needle],
  );

  return (
    <Card withBorder component="section" aria-labelledby="results-title">
      <Stack>
        <Title order={2} size="h4" id="results-title">
          Results
        </Title>
        <TextInput
          label="Filter results"
          description="By address, name or Entra object ID, in every category."
          value={filter}
          onChange={(e) => setFilter(e.currentTarget.value)}
          maw={420}
        />
        <Tabs value={tab} onChange={(v) => v && setTab(v)} keepMounted={false}>
          <Tabs.List>
            {CATEGORIES.map((c) => (
              <Tabs.Tab
                key={c}
                value={c}
                rightSection={
                  <Badge
                    size="sm"
                    variant={plan[c].length ? 'filled' : 'light'}
                    color={plan[c].length ? undefined : 'gray'}
                  >
                    {needle ? `${filtered[c].length}/${plan[c].length}` : plan[c].length}
                  </Badge>
                }
              >
                {CATEGORY_LABELS[c]}
              </Tabs.Tab>
            ))}
            <Tabs.Tab
              value="skipped"
              rightSection={
                <Badge size="sm" color={plan.skipped.length ? 'orange' : 'gray'} variant="light">
                  {plan.skipped.length}
                </Badge>
              }
            >
              Skipped
            </Tabs.Tab>
          </Tabs.List>
          {CATEGORIES.map((c) => (
            <Tabs.Panel key={c} value={c} pt="sm">
              <CategoryTable
                category={c}
                changes={filtered[c]}
                excluded={excluded}
                setExcluded={setExcluded}
              />
            </Tabs.Panel>
          ))}
          <Tabs.Panel value="skipped" pt="sm">
            <SkippedTable entries={skipped} />
          </Tabs.Panel>
        </Tabs>
      </Stack>
    </Card>
  );
}

/** One category: tick/untick all (of what the filter shows), then a paged table with a checkbox per change. */
function CategoryTable({
  category,
  changes,
  excluded,
  setExcluded,
}: {
  category: Category;
  changes: Change[];
  excluded: ReadonlySet<string>;
  setExcluded: (next: ReadonlySet<string>) => void;
}) {
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  // A filter narrowing the list may leave the page past the end.
  const pages = Math.max(1, Math.ceil(changes.length / pageSize));
  const current = Math.min(page, pages);
  const records = changes.slice((current - 1) * pageSize, current * pageSize);
  const unticked = useMemo(
    () => changes.reduce((n, ch) => n + (excluded.has(ch.id) ? 1 : 0), 0),
    [changes, excluded],
  );
  const label = CATEGORY_LABELS[category];

  const tickAll = (tick: boolean) => {
    const next = new Set(excluded);
    for (const ch of changes) {
      if (tick) next.delete(ch.id);
      else next.add(ch.id);
    }
    setExcluded(next);
  };

  if (!changes.length) return <Text c="dimmed">Nothing in {label.toLowerCase()}.</Text>;
  return (
    <Stack gap="xs">
      <Checkbox
        label={`Tick all ${label.toLowerCase()} (${changes.length - unticked} of ${changes.length} ticked)`}
        checked={unticked === 0}
        indeterminate={unticked > 0 && unticked < changes.length}
        onChange={() => tickAll(unticked > 0)}
      />
      <DataTable
        aria-label={label}
        withTableBorder
        striped
        verticalAlign="top"
        idAccessor="id"
        records={records}
        totalRecords={changes.length}
        page={current}
        onPageChange={setPage}
        recordsPerPage={pageSize}
        recordsPerPageOptions={PAGE_SIZES}
        onRecordsPerPageChange={(n) => {
          setPageSize(n);
          setPage(1);
        }}
        selectedRecords={records.filter((r) => !excluded.has(r.id))}
        onSelectedRecordsChange={(selected) => {
          const keep = new Set(selected.map((r) => r.id));
          const next = new Set(excluded);
          for (const r of records) {
            if (keep.has(r.id)) next.delete(r.id);
            else next.add(r.id);
          }
          setExcluded(next);
        }}
        allRecordsSelectionCheckboxProps={{
          'aria-label': `Tick every change on this page of ${label.toLowerCase()}`,
        }}
        getRecordSelectionCheckboxProps={(r) => ({ 'aria-label': `Apply: ${r.address ?? r.name}` })}
        columns={[
          { accessor: 'address', title: 'Address', render: (r) => r.address ?? '—' },
          { accessor: 'name', title: 'Name' },
          {
            accessor: 'mailbox',
            title: 'Mailbox',
            hidden: !MAILBOX_CATEGORIES.includes(category),
            render: (r) => <MailboxBadge mailbox={changeMailbox(r)} />,
          },
          { accessor: 'detail', title: 'Change', render: (r) => <ChangeDetail change={r} /> },
        ]}
      />
    </Stack>
  );
}

function SkippedTable({ entries }: { entries: SkippedEntry[] }) {
  const [page, setPage] = useState(1);
  const pageSize = 50;
  if (!entries.length) return <Text c="dimmed">Nothing was skipped.</Text>;
  const pages = Math.max(1, Math.ceil(entries.length / pageSize));
  const current = Math.min(page, pages);
  return (
    <DataTable
      aria-label="Skipped"
      withTableBorder
      striped
      idAccessor={(s) => `${s.objectType}:${s.externalId ?? s.address ?? s.name}:${s.reason}:${s.message}`}
      records={entries.slice((current - 1) * pageSize, current * pageSize)}
      totalRecords={entries.length}
      page={current}
      onPageChange={setPage}
      recordsPerPage={pageSize}
      columns={[
        {
          accessor: 'objectType',
          title: 'Type',
          render: (s) => (s.objectType === 'user' ? 'User' : 'Group'),
        },
        { accessor: 'address', title: 'Address', render: (s) => s.address ?? '—' },
        { accessor: 'name', title: 'Name', render: (s) => s.name ?? '—' },
        { accessor: 'message', title: 'Why', render: (s) => <Text size="sm">{s.message}</Text> },
      ]}
    />
  );
}

/** What an execution did: applied per category, conflicts, errors; and the way to its history entry. */
function Outcome({ result, onAgain }: { result: ExecuteResult; onAgain: () => void }) {
  const org = useOrgRef();
  const conflicts = result.conflicts ?? [];
  const errors = result.errors ?? [];
  return (
    <Card withBorder component="section" aria-labelledby="outcome-title" data-testid="sync-outcome">
      <Stack>
        <Title order={2} size="h4" id="outcome-title">
          {errors.length ? 'The sync finished with errors' : 'The sync is done'}
        </Title>
        <Table maw={480} aria-label="Applied changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Category</Table.Th>
              <Table.Th>Applied</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {CATEGORIES.map((c) => (
              <Table.Tr key={c}>
                <Table.Td>{CATEGORY_LABELS[c]}</Table.Td>
                <Table.Td>{result.applied[c] ?? 0}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Text>
          Unticked (not applied): {result.excluded} · Conflicts: {conflicts.length} · Errors: {errors.length}
        </Text>
        {result.seats && <Text>Billable users: {seatsText(result.seats)}</Text>}
        {conflicts.length > 0 && (
          <Alert color="orange" title="Conflicts: changed since the preview, not applied">
            <List size="sm">
              {conflicts.map((c) => (
                <List.Item key={c.changeId}>{c.message}</List.Item>
              ))}
            </List>
          </Alert>
        )}
        <RunErrors errors={errors} />
        <Group>
          <Button component={Link} to={`/orgs/${org}/history/${result.runId}`} variant="default">
            Open this run in the history
          </Button>
          <Button variant="subtle" onClick={onAgain}>
            Search again
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
