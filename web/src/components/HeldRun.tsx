import { Alert, Button, Group, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '../api/client';
import type { ExecuteResult } from '../api/types';
import { orgPath } from './hooks';

/** An automatic run the deletion safeguard held: the admin applies it as planned, or drops it. */
export function HeldRun({ org, runId, reason }: { org: string; runId: string; reason: string | null }) {
  const queryClient = useQueryClient();
  const refresh = () => {
    for (const key of ['runs', 'overview', 'users', 'groups', 'notifications'])
      void queryClient.invalidateQueries({ queryKey: [key, org] });
  };
  const approve = useMutation({
    mutationFn: () => api<ExecuteResult>('POST', `${orgPath(org)}/sync/runs/${runId}/approve`),
    onSuccess: (result) => {
      const applied = Object.values(result.applied).reduce((n, v) => n + (v ?? 0), 0);
      notifications.show({ color: 'green', message: `The held sync was applied: ${applied} changes.` });
      refresh();
    },
  });
  const dismiss = useMutation({
    mutationFn: () => api('POST', `${orgPath(org)}/sync/runs/${runId}/dismiss`),
    onSuccess: () => {
      notifications.show({ message: 'The held sync was dismissed: nothing of it was applied.' });
      refresh();
    },
  });
  const error = approve.error ?? dismiss.error;
  return (
    <Alert color="orange" title="An automatic sync is held for your review" role="status">
      <Text size="sm">
        {reason ?? 'It would remove or deactivate more users than the safeguard allows.'} Automatic syncs
        pause until you decide.
      </Text>
      {error && (
        <Text size="sm" c="red" mt="xs">
          {error.message}
        </Text>
      )}
      <Group mt="sm">
        <Button color="orange" loading={approve.isPending} onClick={() => approve.mutate()}>
          Approve and apply
        </Button>
        <Button variant="default" loading={dismiss.isPending} onClick={() => dismiss.mutate()}>
          Dismiss
        </Button>
      </Group>
    </Alert>
  );
}
