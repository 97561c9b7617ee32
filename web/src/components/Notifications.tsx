import { Anchor, Badge, Button, Group, Indicator, Popover, ScrollArea, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api, query } from '../api/client';
import { afterNotificationsRead, keys } from '../api/keys';
import type { Notification } from '../api/types';
import { when } from './common';
import { orgPath } from './hooks';

/** What each kind of notification is about, as a word beside its title (the wire's kind is any string). */
const KIND_WORDS: Record<string, { word: string; color: string }> = {
  sync_failed: { word: 'Sync failed', color: 'red' },
  sync_held: { word: 'Held for review', color: 'orange' },
  secret_expiring: { word: 'Key expiring', color: 'yellow' },
  seats_exceeded: { word: 'Over the licence', color: 'orange' },
};

/** The organization's unread notifications (failed and held syncs, an expiring key, a licence passed), newest first. */
export function useUnreadNotifications(org: string) {
  return useQuery({
    queryKey: keys.unreadNotifications(org),
    queryFn: () =>
      api<Notification[]>('GET', `${orgPath(org)}/notifications${query({ unread: 'true', limit: 20 })}`),
    // Automatic syncs run on the server meanwhile: look again now and then.
    refetchInterval: 60_000,
  });
}

/** Marks the given notifications read (all unread ones without ids), and refreshes what counts them. */
export function useMarkRead(org: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (ids?: string[]) => api('POST', `${orgPath(org)}/notifications/read`, ids ? { ids } : {}),
    onSuccess: () => afterNotificationsRead(queryClient, org),
  });
}

/** The header's notifications button: the unread count, and the list in a popover. */
export function NotificationsButton({ org }: { org: string }) {
  const [opened, setOpened] = useState(false);
  const unread = useUnreadNotifications(org);
  const markRead = useMarkRead(org);
  const items = unread.data ?? [];
  return (
    // The indicator wraps the popover, not the reverse: the popover's aria-haspopup/aria-expanded
    // belong on the button, and a <div> may not carry them (axe-core: aria-allowed-attr).
    <Indicator label={items.length} size={16} disabled={!items.length} offset={4}>
      <Popover opened={opened} onChange={setOpened} width={380} position="bottom-end" shadow="md" trapFocus>
        <Popover.Target>
          <Button
            variant="default"
            size="xs"
            onClick={() => setOpened((o) => !o)}
            aria-label={`Notifications: ${items.length} unread`}
          >
            Notifications
          </Button>
        </Popover.Target>
        <Popover.Dropdown aria-label="Unread notifications">
          {items.length ? (
            <Stack gap="sm">
              <ScrollArea.Autosize mah={360}>
                <Stack gap="sm">
                  {items.map((n) => (
                    <NotificationItem
                      key={n.id}
                      org={org}
                      notification={n}
                      onOpenRun={() => setOpened(false)}
                      onMarkRead={() => markRead.mutate([n.id])}
                    />
                  ))}
                </Stack>
              </ScrollArea.Autosize>
              <Button
                size="xs"
                variant="default"
                onClick={() => markRead.mutate(undefined)}
                loading={markRead.isPending}
              >
                Mark all as read
              </Button>
            </Stack>
          ) : (
            <Text size="sm" c="dimmed">
              No unread notifications.
            </Text>
          )}
        </Popover.Dropdown>
      </Popover>
    </Indicator>
  );
}

/** One notification: what it is about, its sentence, when, and the way to its run. */
export function NotificationItem({
  org,
  notification: n,
  onOpenRun,
  onMarkRead,
}: {
  org: string;
  notification: Notification;
  onOpenRun?: () => void;
  onMarkRead?: () => void;
}) {
  const kind = KIND_WORDS[n.kind];
  return (
    <div>
      <Group gap="xs" wrap="nowrap" align="baseline">
        {kind && (
          <Badge size="xs" variant="light" color={kind.color}>
            {kind.word}
          </Badge>
        )}
        <Text fw={500} size="sm">
          {n.title}
        </Text>
      </Group>
      <Text size="sm">{n.message}</Text>
      <Group gap="xs">
        <Text size="xs" c="dimmed">
          {when(n.createdAt)}
        </Text>
        {n.runId && (
          <Anchor size="xs" component={Link} to={`/orgs/${org}/history/${n.runId}`} onClick={onOpenRun}>
            open the run
          </Anchor>
        )}
        {onMarkRead && (
          <Anchor component="button" type="button" size="xs" onClick={onMarkRead}>
            mark as read
          </Anchor>
        )}
      </Group>
    </div>
  );
}
