import { Alert, Button, Card, Group, Modal, Stack, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { api } from '../api/client';
import { afterSync, keys } from '../api/keys';
import { loadPlan } from '../api/plans';
import { type ApproveBody, CATEGORIES, type ExecuteResult } from '../api/types';
import { applySentence, PreviewResults } from './changes';
import { ErrorAlert, Loading } from './common';
import { orgPath } from './hooks';
import { useKeptUnticks } from './kept-unticks';

/**
 * An automatic run the deletion safeguard held, as the overview announces it: the way to its
 * review. Nothing is decided here — a held run is approved or dismissed on its own page, where
 * its changes are listed.
 */
export function HeldRun({ org, runId, reason }: { org: string; runId: string; reason: string | null }) {
  return (
    <Alert color="orange" title="An automatic sync is held for your review" role="status">
      <Text size="sm">
        {reason ?? 'It would remove or deactivate more users than the safeguard allows.'} Automatic syncs
        pause until you decide.
      </Text>
      <Group mt="sm">
        <Button color="orange" component={Link} to={`/orgs/${org}/history/${runId}`}>
          Review the held sync
        </Button>
      </Group>
    </Alert>
  );
}

/**
 * A held run reviewed like a preview: its plan by category (the same table), with a filter and
 * per-change and per-category ticks; *Approve and apply* applies what stays ticked and *Dismiss*
 * drops it, each after a confirmation saying what will happen.
 */
export function HeldRunReview({
  org,
  runId,
  planId,
  reason,
}: {
  org: string;
  runId: string;
  planId: string;
  reason: string | null;
}) {
  const queryClient = useQueryClient();
  // Kept across a reload or a return, as on the Sync page.
  const { excluded, setExcluded, forget: forgetUnticks } = useKeptUnticks(planId);
  const [confirming, setConfirming] = useState<'approve' | 'dismiss' | null>(null);
  const stored = useQuery({
    queryKey: keys.plan(org, planId),
    queryFn: () => loadPlan(orgPath(org), planId),
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  const refresh = () => afterSync(queryClient, org);
  const approve = useMutation({
    mutationFn: () =>
      api<ExecuteResult>('POST', `${orgPath(org)}/sync/runs/${runId}/approve`, {
        excludedChangeIds: [...excluded],
      } satisfies ApproveBody),
    onSuccess: (result) => {
      const applied = Object.values(result.applied).reduce((n, v) => n + (v ?? 0), 0);
      notifications.show({
        color: 'green',
        message: `The held sync was applied: ${applied} changes${result.excluded ? `, ${result.excluded} left out` : ''}.`,
      });
      setConfirming(null);
      forgetUnticks();
      refresh();
    },
  });
  const dismiss = useMutation({
    mutationFn: () => api('POST', `${orgPath(org)}/sync/runs/${runId}/dismiss`),
    onSuccess: () => {
      notifications.show({ message: 'The held sync was dismissed: nothing of it was applied.' });
      setConfirming(null);
      forgetUnticks();
      refresh();
    },
  });
  const plan = stored.data?.plan;
  const total = plan ? CATEGORIES.reduce((n, c) => n + plan[c].length, 0) : 0;
  const ticked = total - excluded.size;
  const close = () => setConfirming(null);
  return (
    <Stack>
      <Alert color="orange" title="This automatic sync is held for your review" role="status">
        <Text size="sm">
          {reason ?? 'It would remove or deactivate more users than the safeguard allows.'} Nothing of it is
          applied until you approve it; automatic syncs pause until you decide. Untick what should not happen,
          then approve the rest, or dismiss it all.
        </Text>
      </Alert>
      {stored.isPending && <Loading />}
      {stored.error && <ErrorAlert error={stored.error} title="The held plan cannot be shown" />}
      {plan && (
        <>
          <PreviewResults plan={plan} excluded={excluded} setExcluded={setExcluded} />
          <Card withBorder>
            <Group justify="space-between">
              <Text>
                {ticked} of {total} changes ticked · {plan.unchanged} unchanged · {plan.skipped.length}{' '}
                skipped
              </Text>
              <Group>
                <Button variant="default" onClick={() => setConfirming('dismiss')}>
                  Dismiss
                </Button>
                <Button color="orange" onClick={() => setConfirming('approve')} disabled={ticked === 0}>
                  Approve and apply
                </Button>
              </Group>
            </Group>
          </Card>
          <Modal opened={confirming === 'approve'} onClose={close} title="Approve and apply the held sync?">
            <Stack>
              <Text>{applySentence(plan, excluded)}</Text>
              {excluded.size > 0 && (
                <Text size="sm" c="dimmed">
                  The unticked changes are not applied; the next sync plans them again.
                </Text>
              )}
              {approve.error && <ErrorAlert error={approve.error} title="Not applied" />}
              <Group justify="flex-end">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button color="orange" loading={approve.isPending} onClick={() => approve.mutate()}>
                  Apply {ticked} change{ticked === 1 ? '' : 's'}
                </Button>
              </Group>
            </Stack>
          </Modal>
          <Modal opened={confirming === 'dismiss'} onClose={close} title="Dismiss the held sync?">
            <Stack>
              <Text>
                Dismiss all {total} change{total === 1 ? '' : 's'} of this sync: nothing of it is applied.
                Automatic syncs resume, and the next one plans afresh from Entra.
              </Text>
              {dismiss.error && <ErrorAlert error={dismiss.error} title="Not dismissed" />}
              <Group justify="flex-end">
                <Button variant="default" onClick={close}>
                  Cancel
                </Button>
                <Button color="red" loading={dismiss.isPending} onClick={() => dismiss.mutate()}>
                  Dismiss the sync
                </Button>
              </Group>
            </Stack>
          </Modal>
        </>
      )}
    </Stack>
  );
}
