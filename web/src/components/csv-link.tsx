import { Anchor } from '@mantine/core';
import { orgPath } from './hooks';

/**
 * A download of changes as CSV, for a spreadsheet. A plain link: the browser sends the session
 * cookie with a GET, and the server names the file (Content-Disposition).
 */
function CsvLink({ path, label }: { path: string; label: string }) {
  return (
    <Anchor href={`/api/v1${path}`} download size="sm">
      {label}
    </Anchor>
  );
}

/** Every change of a preview (or a held run's plan) and its skipped entries, as CSV. */
export function PreviewCsvLink({ org, planId }: { org: string; planId: string }) {
  return (
    <CsvLink
      path={`${orgPath(org)}/sync/plans/${encodeURIComponent(planId)}/changes.csv`}
      label="Download the changes (CSV)"
    />
  );
}

/** Every change of a run with its outcome, as CSV. */
export function RunCsvLink({ org, runId }: { org: string; runId: string }) {
  return (
    <CsvLink
      path={`${orgPath(org)}/sync/runs/${encodeURIComponent(runId)}/changes.csv`}
      label="Download the changes (CSV)"
    />
  );
}
