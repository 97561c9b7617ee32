import { Chip, Group, Stack, Text } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import { useMemo, useState } from 'react';
import { SKIP_REASONS } from '../../../src/sync/categories.js';
import type { Preview, SkippedEntry } from '../api/types';

type Reason = SkippedEntry['reason'];

/** Each skip reason in a few words (the Record type fails the build if a reason is missing here). */
export const REASON_LABELS: Record<Reason, string> = {
  guest: 'Guest user',
  no_mailbox: 'No address',
  primary_invalid: 'Invalid address',
  primary_foreign_domain: 'Address outside your domains',
  primary_pending_domain: 'Address in a pending domain',
  alias_invalid: 'Invalid alias',
  alias_foreign_domain: 'Alias outside your domains',
  alias_pending_domain: 'Alias in a pending domain',
  address_conflict: 'Address taken',
  alias_conflict: 'Alias taken',
  exempt: 'Exempt from sync',
};
/** The reasons in the order the server lists them. */
const REASONS: readonly Reason[] = SKIP_REASONS;

const PAGE_SIZES = [25, 50, 100, 200];

/** "2,499" */
const count = (n: number) => n.toLocaleString('en-US');

/** Skipped entries per reason, counted from the entries (a plan or run made before the server counted them has none). */
function byReason(entries: readonly SkippedEntry[]): Record<Reason, number> {
  const counts = Object.fromEntries(REASONS.map((r) => [r, 0])) as Record<Reason, number>;
  for (const e of entries) counts[e.reason] = (counts[e.reason] ?? 0) + 1;
  return counts;
}

/** The one line for what is left out as expected: "1,234 aliases in … left out, as expected." */
export function expectedLine(expected: Preview['expectedLeftOut'] | undefined): string | null {
  const n = expected?.initialDomainAliases ?? 0;
  if (!n) return null;
  return `${count(n)} alias${n === 1 ? '' : 'es'} in the tenant's own onmicrosoft.com domains left out, as expected.`;
}

/**
 * Skipped entries: counts per reason as a filter (one chip per reason that occurs), the line for
 * what is left out as expected, then a paged table whose Why column wraps. `entries` may already be
 * narrowed by a text filter; the chips count what `entries` holds.
 */
export function SkippedTable({
  entries,
  expected,
  label = 'Skipped',
}: {
  entries: SkippedEntry[];
  expected?: Preview['expectedLeftOut'];
  label?: string;
}) {
  const [reason, setReason] = useState<Reason | 'all'>('all');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const counts = useMemo(() => byReason(entries), [entries]);
  const present = REASONS.filter((r) => counts[r] > 0);
  // A reason the text filter left nothing of shows everything again.
  const active = reason !== 'all' && counts[reason] > 0 ? reason : 'all';
  const shown = useMemo(
    () => (active === 'all' ? entries : entries.filter((e) => e.reason === active)),
    [entries, active],
  );
  const pages = Math.max(1, Math.ceil(shown.length / pageSize));
  const current = Math.min(page, pages);
  const line = expectedLine(expected);

  return (
    <Stack gap="xs">
      {line && (
        <Text size="sm" data-testid="skipped-expected">
          {line}
        </Text>
      )}
      {!entries.length ? (
        <Text>Nothing was skipped.</Text>
      ) : (
        <>
          <Chip.Group
            multiple={false}
            value={active}
            onChange={(v) => {
              setReason(v as Reason | 'all');
              setPage(1);
            }}
          >
            <Group gap="xs" role="radiogroup" aria-label={`${label}: filter by reason`}>
              <Chip value="all" size="sm">
                All · {count(entries.length)}
              </Chip>
              {present.map((r) => (
                <Chip key={r} value={r} size="sm">
                  {REASON_LABELS[r]} · {count(counts[r])}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
          <DataTable
            aria-label={label}
            withTableBorder
            striped
            verticalAlign="top"
            idAccessor={(s) =>
              `${s.objectType}:${s.externalId ?? s.address ?? s.name}:${s.reason}:${s.message}`
            }
            records={shown.slice((current - 1) * pageSize, current * pageSize)}
            totalRecords={shown.length}
            page={current}
            onPageChange={setPage}
            recordsPerPage={pageSize}
            recordsPerPageOptions={PAGE_SIZES}
            onRecordsPerPageChange={(n) => {
              setPageSize(n);
              setPage(1);
            }}
            columns={[
              {
                accessor: 'objectType',
                title: 'Type',
                render: (s) => (s.objectType === 'user' ? 'User' : 'Group'),
              },
              {
                accessor: 'address',
                title: 'Address',
                cellsStyle: () => ({ overflowWrap: 'anywhere' }),
                render: (s) => s.address ?? '—',
              },
              {
                accessor: 'name',
                title: 'Name',
                cellsStyle: () => ({ overflowWrap: 'anywhere' }),
                render: (s) => s.name ?? '—',
              },
              { accessor: 'reason', title: 'Reason', render: (s) => REASON_LABELS[s.reason] ?? s.reason },
              {
                accessor: 'message',
                title: 'Why',
                // Long sentences and unbroken addresses wrap inside the column, never cut off.
                cellsStyle: () => ({ whiteSpace: 'normal', overflowWrap: 'anywhere', minWidth: 280 }),
                render: (s) => <Text size="sm">{s.message}</Text>,
              },
            ]}
          />
        </>
      )}
    </Stack>
  );
}
