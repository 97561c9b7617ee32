import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { ErrorAlert } from './common';

/**
 * Puts an API refusal (`{error: {field, message}}`) under the form field it names. Request
 * validation names list items too (`aliases.2`): the list's own field shows it. Returns false
 * when the form has no such field, so the caller shows the message above the buttons instead.
 */
export function showFieldError(
  form: { setFieldError(path: string, error: ReactNode): void },
  fields: readonly string[],
  error: unknown,
  rename: Record<string, string> = {},
): boolean {
  if (!(error instanceof ApiError) || !error.field) return false;
  const root = error.field.split('.')[0] ?? '';
  const field = rename[root] ?? root;
  if (!fields.includes(field)) return false;
  form.setFieldError(field, error.message);
  return true;
}

/**
 * Puts every field's refusal of an API error under its form field (the server lists them all in
 * `fields`; older answers name one `field`). Returns the messages no field of the form shows, for
 * the caller to show above the buttons.
 */
export function showFieldErrors(
  form: { setFieldError(path: string, error: ReactNode): void },
  fields: readonly string[],
  error: unknown,
  rename: Record<string, string> = {},
): string[] {
  if (!(error instanceof ApiError)) return [error instanceof Error ? error.message : String(error)];
  const list = error.fields ?? (error.field ? [{ field: error.field, message: error.message }] : []);
  if (list.length === 0) return [error.message];
  const left: string[] = [];
  for (const item of list) {
    const root = item.field.split('.')[0] ?? '';
    const field = rename[root] ?? root;
    if (fields.includes(field)) form.setFieldError(field, item.message);
    else left.push(item.message);
  }
  return left;
}

/** A confirmation dialog for something that cannot be undone; the refusal, if any, shows inside. */
export function ConfirmDialog({
  opened,
  title,
  children,
  confirmLabel,
  pending,
  error,
  onConfirm,
  onClose,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  pending: boolean;
  error: unknown;
  onConfirm: () => void;
  onClose: () => void;
}) {
  return (
    <Modal opened={opened} onClose={onClose} title={title}>
      <Stack>
        <Text>{children}</Text>
        {error ? <ErrorAlert error={error} title="Not done" /> : null}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" loading={pending} onClick={onConfirm}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
