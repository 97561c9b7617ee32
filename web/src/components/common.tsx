import { Alert, Center, List, Loader, Text } from '@mantine/core';
import { ApiError } from '../api/client';

/** An API failure in a sentence, as the server wrote it. */
export function ErrorAlert({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const message = error instanceof Error ? error.message : String(error);
  const heading =
    error instanceof ApiError && error.status === 403
      ? 'Not allowed'
      : error instanceof ApiError && error.status === 404
        ? 'Not found'
        : title;
  return (
    <Alert color="red" role="alert" title={heading}>
      {message}
    </Alert>
  );
}

/** A centred spinner with a name for screen readers. */
export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <Center p="xl">
      <Loader aria-label={label} />
    </Center>
  );
}

/** A date-time in the reader's locale, or a dash. */
export function when(iso: string | null | undefined): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

/** A duration between two instants, in words short enough for a table. */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '—';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A sync run's errors: what to do (the hint) first, Microsoft's or our text below it. */
export function RunErrors({ errors }: { errors: { code: string; message: string; hint?: string }[] }) {
  if (errors.length === 0) return null;
  return (
    <Alert color="red" title="Errors">
      <List size="sm">
        {errors.map((e) => (
          <List.Item key={`${e.code}:${e.message}`}>
            {e.hint ?? e.message}
            {e.hint && (
              <Text size="xs" c="dimmed">
                {e.message}
              </Text>
            )}
          </List.Item>
        ))}
      </List>
    </Alert>
  );
}
