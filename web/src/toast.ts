import { type NotificationData, notifications } from '@mantine/notifications';

/** Toasts on screen at once (main.tsx); more wait in a queue. */
export const TOAST_LIMIT = 3;

/**
 * Shows a toast. The same words while they are still on screen (or queued) show nothing more, so
 * Save pressed three times is one "Saved", not a stack of three. Errors stay longer, to be read
 * to the end.
 */
export function toast(data: NotificationData): void {
  notifications.show({
    autoClose: data.color === 'red' ? 10_000 : 5_000,
    ...data,
    id: data.id ?? `toast:${String(data.title ?? '')}:${String(data.message)}`,
  });
}
