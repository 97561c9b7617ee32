import {
  Alert,
  Button,
  Card,
  Group,
  List,
  Progress,
  Stack,
  Text,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import type { CollectionProgress, SearchView } from '../api/searches';
import { ErrorAlert } from './common';

const COLLECTIONS = [
  ['users', 'Users'],
  ['groups', 'Groups'],
  ['mailboxes', 'Mailboxes'],
] as const;

/** "Users: 12 pages, 11,800 objects read" */
export function collectionLine(label: string, read: CollectionProgress): string {
  const pages = `${read.pages.toLocaleString('en-US')} page${read.pages === 1 ? '' : 's'}`;
  const objects = `${read.objects.toLocaleString('en-US')} object${read.objects === 1 ? '' : 's'}`;
  return `${label}: ${pages}, ${objects} read`;
}

/**
 * What a search does now, in words that change only with its phase (the live region reads
 * this, so a screen reader hears "Planning…" once, not every page count).
 */
export function searchPhaseText(search: SearchView): string {
  if (search.state === 'done') return 'The search is done: its preview is shown.';
  if (search.state === 'cancelled') return 'Cancelled: nothing was stored.';
  if (search.state === 'failed') return 'The search failed.';
  if (search.cancelRequested) return 'Cancelling…';
  if (search.phase === 'plan') return 'Planning…';
  if (search.phase === 'store') return 'Storing the preview…';
  if (search.phase === 'read') return 'Reading the tenant from Entra…';
  return 'Starting the search…';
}

/**
 * The polite live region of a page that runs searches: mounted before a search starts and kept
 * after it ends (a region that appears with its text is not reliably read), saying the phase.
 */
export function SearchAnnouncer({ search }: { search: SearchView | undefined }) {
  return (
    <VisuallyHidden role="status" aria-live="polite" data-testid="search-announcer">
      {search ? searchPhaseText(search) : ''}
    </VisuallyHidden>
  );
}

/**
 * A search in progress (per collection read so far, the phase, Cancel) or how it ended when it
 * did not end in a preview (cancelled, failed). A done search shows nothing: the page shows its
 * preview instead.
 */
export function SearchProgress({
  search,
  onCancel,
  cancelling,
  cancelError,
}: {
  search: SearchView;
  onCancel: () => void;
  cancelling: boolean;
  cancelError: unknown;
}) {
  const phase = searchPhaseText(search);
  if (search.state === 'done') return null;
  if (search.state === 'cancelled')
    return (
      // role "note": SearchAnnouncer already said it; an alert would say it twice.
      <Alert color="gray" role="note" title="Cancelled: nothing was stored" data-testid="search-cancelled">
        The search stopped before it finished; no preview was made. Search again when you are ready.
      </Alert>
    );
  if (search.state === 'failed') return <SearchFailed error={search.error} />;
  const read = COLLECTIONS.filter(([key]) => search.progress[key]);
  return (
    <Card withBorder component="section" aria-labelledby="search-title" data-testid="search-progress">
      <Stack gap="sm">
        <Title order={2} size="h4" id="search-title">
          Searching
        </Title>
        {/* Hidden from screen readers: SearchAnnouncer says the phase once per change. */}
        <Text aria-hidden>{phase}</Text>
        {/* The total is not known until the last page, so the bar shows activity, not a share. */}
        <Progress value={100} striped animated aria-label="Search in progress" />
        {read.length > 0 && (
          <List size="sm" aria-label="Read so far">
            {read.map(([key, label]) => (
              <List.Item key={key}>{collectionLine(label, search.progress[key]!)}</List.Item>
            ))}
          </List>
        )}
        {cancelError ? <ErrorAlert error={cancelError} title="Not cancelled" /> : null}
        <Group>
          <Button variant="default" onClick={onCancel} loading={cancelling} disabled={search.cancelRequested}>
            Cancel
          </Button>
          <Text size="sm" c="dimmed">
            Cancelling stores nothing; the search stops at its next page.
          </Text>
        </Group>
      </Stack>
    </Card>
  );
}

/** A failed search's error as the API words it: what to do (the hint) first, then the message and code. */
function SearchFailed({ error }: { error: SearchView['error'] }) {
  return (
    <Alert color="red" role="note" title="The search failed">
      <Text size="sm">{error?.hint ?? error?.message ?? 'The search stopped without saying why.'}</Text>
      {error?.hint && (
        <Text size="xs" c="dimmed">
          {error.message}
        </Text>
      )}
      {error && (
        <Text size="xs" c="dimmed">
          Code: {error.code}
        </Text>
      )}
    </Alert>
  );
}
