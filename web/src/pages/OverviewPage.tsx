import { Alert, Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, query } from '../api/client';
import type {
  ConnectionTest,
  Group as DirectoryGroup,
  EntraSettings,
  Organization,
  Page,
  SyncRun,
  User,
} from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { orgPath, useOrgRef } from '../components/hooks';
import { STEP_NAMES } from './EntraSettingsPage';
import { appliedTotal, StatusBadge, triggerName } from './HistoryPage';

const DAY = 24 * 3600 * 1000;

/** The organization at a glance: directory size, connection health, last successful and next sync. */
export function OverviewPage() {
  const org = useOrgRef();
  const base = orgPath(org);
  const current = useQuery({ queryKey: ['org', org], queryFn: () => api<Organization>('GET', base) });
  const users = useQuery({
    queryKey: ['users', org, 'count'],
    queryFn: () => api<Page<User>>('GET', `${base}/users${query({ limit: 1 })}`),
  });
  const groups = useQuery({
    queryKey: ['groups', org, 'count'],
    queryFn: () => api<Page<DirectoryGroup>>('GET', `${base}/groups${query({ limit: 1 })}`),
  });
  const settings = useQuery({
    queryKey: ['entra-settings', org],
    queryFn: () => api<EntraSettings>('GET', `${base}/entra-settings`),
  });
  const runs = useQuery({
    queryKey: ['runs', org, 'overview'],
    queryFn: () => api<SyncRun[]>('GET', `${base}/sync/runs${query({ limit: 50 })}`),
  });
  const test = useMutation({ mutationFn: () => api<ConnectionTest>('POST', `${base}/entra-settings/test`) });

  const s = settings.data;
  const last = runs.data?.[0];
  const lastGood = runs.data?.find(
    (r) => r.status === 'succeeded' || r.status === 'completed_with_conflicts',
  );
  const expiresAt = s?.secret.expiresAt ? new Date(`${s.secret.expiresAt}T00:00:00Z`) : null;
  const daysLeft = expiresAt ? Math.floor((expiresAt.getTime() - Date.now()) / DAY) : null;
  // The scheduler runs a sync when the frequency has passed since the last one; an estimate is
  // what the runs can tell until the server reports its own schedule.
  const next =
    s?.configured && s.frequencyHours
      ? last
        ? new Date(new Date(last.startedAt).getTime() + s.frequencyHours * 3600_000)
        : null
      : undefined;

  return (
    <Stack>
      <Title order={1}>{current.data?.name ?? 'Overview'}</Title>
      <Text c="dimmed">Domains: {current.data?.domains.join(', ')}</Text>
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <Stat label="Users" value={users.data?.total} to={`/orgs/${org}/users`} />
        <Stat label="Groups" value={groups.data?.total} to={`/orgs/${org}/groups`} />
        <Card withBorder component="section" aria-label="Last successful sync">
          <Text size="sm" c="dimmed">
            Last successful sync
          </Text>
          <Text fw={600}>{lastGood ? when(lastGood.finishedAt ?? lastGood.startedAt) : 'None yet'}</Text>
          {lastGood && (
            <Text size="sm">
              {triggerName(lastGood.trigger)}, {appliedTotal(lastGood)} changes applied
            </Text>
          )}
        </Card>
        <Card withBorder component="section" aria-label="Next scheduled sync">
          <Text size="sm" c="dimmed">
            Next scheduled sync
          </Text>
          <Text fw={600}>
            {next === undefined
              ? 'None (manual syncs only)'
              : next === null
                ? `Within ${s?.frequencyHours} hours`
                : next.getTime() <= Date.now()
                  ? 'Due now'
                  : `About ${next.toLocaleString()}`}
          </Text>
          {s?.frequencyHours ? <Text size="sm">Every {s.frequencyHours} h, applying all changes</Text> : null}
        </Card>
      </SimpleGrid>

      <Card withBorder component="section" aria-labelledby="health-title">
        <Stack gap="xs">
          <Group justify="space-between">
            <Title order={2} size="h4" id="health-title">
              Azure Active Directory connection
            </Title>
            {s && <HealthBadge settings={s} last={last} test={test.data} />}
          </Group>
          {settings.error && <ErrorAlert error={settings.error} />}
          {s && !s.configured && (
            <Text>
              Not set up yet:{' '}
              <Anchor component={Link} to={`/orgs/${org}/settings/import-users/azure-ad`}>
                connect the tenant under Import Users → Azure Active Directory
              </Anchor>
              .
            </Text>
          )}
          {s?.configured && (
            <Text>
              Tenant {s.tenant}, client ID {s.clientId}, key ending in …{s.secret.last4}.
            </Text>
          )}
          {daysLeft !== null && daysLeft < 30 && (
            <Alert color={daysLeft < 0 ? 'red' : 'yellow'} role="status">
              {daysLeft < 0
                ? `The key (client secret) expired on ${s?.secret.expiresAt}: syncs fail until a new one is saved.`
                : `The key (client secret) expires on ${s?.secret.expiresAt} (in ${daysLeft} days): create a new one and save it.`}
            </Alert>
          )}
          {last?.status === 'failed' && !test.data && (
            <Alert color="red" title="The last sync failed">
              {last.summary.errors?.map((e) => e.hint ?? e.message).join(' ')}
            </Alert>
          )}
          {test.data && !test.data.ok && (
            <Alert color="red" title="The connection test failed">
              {test.data.steps
                .filter((st) => !st.ok && !st.skipped)
                .map((st) => `${STEP_NAMES[st.step]}: ${st.hint ?? st.message ?? 'failed'}`)
                .join(' ')}
            </Alert>
          )}
          {test.error && <ErrorAlert error={test.error} title="The test could not run" />}
          {last && (
            <Group gap="xs">
              <Text size="sm">Last run {when(last.startedAt)}:</Text>
              <StatusBadge status={last.status} />
              <Anchor size="sm" component={Link} to={`/orgs/${org}/history/${last.id}`}>
                details
              </Anchor>
            </Group>
          )}
          <Group>
            <Button
              variant="default"
              onClick={() => test.mutate()}
              loading={test.isPending}
              disabled={!s?.configured}
            >
              Test connection now
            </Button>
            <Button
              component={Link}
              to={`/orgs/${org}/settings/users-groups/azure-ad-sync`}
              disabled={!s?.configured}
            >
              Run a manual sync
            </Button>
          </Group>
        </Stack>
      </Card>
    </Stack>
  );
}

function Stat({ label, value, to }: { label: string; value: number | undefined; to: string }) {
  return (
    <Card withBorder component="section" aria-label={label}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value ?? '…'}
      </Text>
      <Anchor size="sm" component={Link} to={to}>
        Open {label.toLowerCase()}
      </Anchor>
    </Card>
  );
}

/** Healthy when the latest test passed, or else when the last run did not fail. */
function HealthBadge({
  settings,
  last,
  test,
}: {
  settings: EntraSettings;
  last: SyncRun | undefined;
  test: ConnectionTest | undefined;
}) {
  if (!settings.configured) return <Badge color="gray">Not connected</Badge>;
  if (test) return test.ok ? <Badge color="green">Healthy</Badge> : <Badge color="red">Failing</Badge>;
  if (!last) return <Badge color="gray">Not synced yet</Badge>;
  return last.status === 'failed' ? <Badge color="red">Failing</Badge> : <Badge color="green">Healthy</Badge>;
}
