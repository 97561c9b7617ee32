import { Badge, Card, Checkbox, List, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { useDeferredValue, useMemo, useState } from 'react';
import { isDeactivation } from '../../../src/sync/deactivation.js';
import {
  CATEGORIES,
  type Category,
  type Change,
  type ChangeOutcome,
  type MailboxKind,
  type PlannedMember,
  type Preview,
} from '../api/types';
import { MailboxBadge } from './recipients';
import { SkippedTable } from './skipped';

export const CATEGORY_LABELS: Record<Category, string> = {
  usersToAdd: 'Users to add',
  usersToUpdate: 'Users to update',
  usersToRemove: 'Users to remove',
  groupsToAdd: 'Groups to add',
  groupsToUpdate: 'Groups to update',
  groupsToRemove: 'Groups to remove',
};

const FIELD_LABELS: Record<string, string> = {
  email: 'Address',
  aliases: 'Aliases',
  firstName: 'First name',
  lastName: 'Last name',
  displayName: 'Display name',
  status: 'Status',
  mailbox: 'Mailbox',
  source: 'Source',
  externalId: 'Entra object',
  name: 'Name',
  kind: 'Kind',
};

/** A field's value as a short text: lists joined, nothing as "(none)". */
function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(none)';
  if (Array.isArray(value)) {
    if (!value.length) return '(none)';
    return value
      .map((v) => (typeof v === 'object' && v && 'label' in v ? String(v.label) : String(v)))
      .join(', ');
  }
  return String(value);
}

/** A field's value in words where the raw value says little (a mailbox of unknown purpose is null). */
function showField(field: string, value: unknown): string {
  if (field === 'mailbox') return value ? String(value) : 'unknown';
  return show(value);
}

/**
 * The mailbox purpose a user change carries: the new user's, or an update's new one when it
 * changes; undefined when the change does not say (a removal, an update leaving it as it was).
 */
export function changeMailbox(change: Change): MailboxKind | null | undefined {
  if (change.kind === 'add_user') return change.user.mailbox;
  if (change.kind === 'update_user' && 'mailbox' in change.after) return change.after.mailbox;
  return undefined;
}

/** At most `max` member labels, then how many more. */
function members(list: PlannedMember[], max = 5): string {
  const shown = list.slice(0, max).map((m) => m.label);
  return list.length > max ? `${shown.join(', ')} and ${list.length - max} more` : shown.join(', ');
}

/** The fields of a change ChangeDetail reads: a planned change, or a change's outcome in a run. */
interface Shown {
  kind: Change['kind'];
  reason?: string;
  message?: string;
  before?: object;
  after?: object;
  membersAdded?: PlannedMember[];
  membersRemoved?: PlannedMember[];
  user?: { aliases?: string[]; role?: string; status?: string };
  group?: { kind?: string; members?: PlannedMember[] };
}

/** What a change will do, in a few lines: before → after for updates, the reason for removals. */
export function ChangeDetail({ change: planned }: { change: Change | ChangeOutcome }) {
  const change: Shown = planned;
  if (change.kind === 'update_user' || change.kind === 'update_group') {
    const before = (change.before ?? {}) as Record<string, unknown>;
    const after = (change.after ?? {}) as Record<string, unknown>;
    const fields = Object.keys(after).filter((f) => f !== 'members');
    return (
      <List size="xs" spacing={0} listStyleType="none">
        {change.reason === 'linked' && <List.Item>Links the user you created by hand to Entra.</List.Item>}
        {fields.map((f) => (
          <List.Item key={f}>
            <b>{FIELD_LABELS[f] ?? f}:</b> {showField(f, before[f])} → {showField(f, after[f])}
          </List.Item>
        ))}
        {!!change.membersAdded?.length && (
          <List.Item>
            <b>Members added:</b> {members(change.membersAdded)}
          </List.Item>
        )}
        {!!change.membersRemoved?.length && (
          <List.Item>
            <b>Members removed:</b> {members(change.membersRemoved)}
          </List.Item>
        )}
      </List>
    );
  }
  if (change.kind === 'remove_user' || change.kind === 'remove_group') {
    return <Text size="xs">{change.message ?? 'Gone from Entra.'}</Text>;
  }
  if (change.kind === 'add_user') {
    const aliases = change.user?.aliases;
    const role = change.user?.role;
    return (
      <Text size="xs">
        {role === 'silent_user' ? 'Silent User' : role === 'end_user' ? 'End User' : ''}
        {aliases?.length ? ` · aliases: ${aliases.join(', ')}` : ''}
        {change.user?.status === 'inactive' ? ' · inactive (disabled in Entra)' : ''}
      </Text>
    );
  }
  const groupMembers = change.group?.members ?? [];
  return (
    <Text size="xs">
      {change.group?.kind === 'security' ? 'Security group' : 'Distribution group'}
      {groupMembers.length ? ` · ${groupMembers.length} members: ${members(groupMembers)}` : ' · no members'}
    </Text>
  );
}

const PAGE_SIZES = [25, 50, 100, 200];

/** User changes that carry the mailbox purpose (a removal does not): their tables have a Mailbox column. */
const MAILBOX_CATEGORIES: readonly Category[] = ['usersToAdd', 'usersToUpdate'];

/** The preview by category (tabs with counts), filterable, with a checkbox per change. */
export function PreviewResults({
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
        {/* tabIndex -1: Search moves focus here (SyncPage), not back to the page's body. */}
        <Title order={2} size="h4" id="results-title" tabIndex={-1}>
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
          {/* One row, scrolled sideways where the window is narrow: wrapped tabs read as two lists. */}
          <Tabs.List style={{ flexWrap: 'nowrap', overflowX: 'auto', overflowY: 'hidden' }}>
            {CATEGORIES.map((c) => (
              <Tabs.Tab
                key={c}
                value={c}
                style={{ whiteSpace: 'nowrap', flexShrink: 0 }}
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
              style={{ whiteSpace: 'nowrap', flexShrink: 0 }}
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
            <SkippedTable entries={skipped} expected={plan.expectedLeftOut} />
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

/** "2,499" */
function count(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * What applying a plan minus the unticked changes will do, in one sentence counted from what
 * stays ticked: "Apply 2,499 changes: 2,400 removals, 99 deactivations; 2 left out."
 */
export function applySentence(plan: Preview, excluded: ReadonlySet<string>): string {
  const ticked = (c: Category) => plan[c].filter((ch) => !excluded.has(ch.id));
  const updates = ticked('usersToUpdate');
  const deactivations = updates.filter(isDeactivation).length;
  const parts: [number, string, string][] = [
    [ticked('usersToRemove').length, 'removal', 'removals'],
    [deactivations, 'deactivation', 'deactivations'],
    [
      updates.length - deactivations,
      deactivations ? 'other user update' : 'user update',
      deactivations ? 'other user updates' : 'user updates',
    ],
    [ticked('usersToAdd').length, 'user to add', 'users to add'],
    [ticked('groupsToRemove').length, 'group removal', 'group removals'],
    [ticked('groupsToUpdate').length, 'group update', 'group updates'],
    [ticked('groupsToAdd').length, 'group to add', 'groups to add'],
  ];
  const total = CATEGORIES.reduce((n, c) => n + plan[c].length, 0);
  const left = total - CATEGORIES.reduce((n, c) => n + ticked(c).length, 0);
  const applied = total - left;
  const what = parts
    .filter(([n]) => n > 0)
    .map(([n, one, many]) => `${count(n)} ${n === 1 ? one : many}`)
    .join(', ');
  return `Apply ${count(applied)} change${applied === 1 ? '' : 's'}${what ? `: ${what}` : ''}${left ? `; ${count(left)} left out` : ''}.`;
}
