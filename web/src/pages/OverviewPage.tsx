import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api, query } from '../api/client';
import { keys } from '../api/keys';
import type {
  ConnectionTest,
  Group as DirectoryGroup,
  EntraSettings,
  Organization,
  Page,
  SyncOverview,
  User,
} from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { HeldRun } from '../components/HeldRun';
import { orgPath, useOrgRef } from '../components/hooks';
import { licensedSeatsValue } from '../components/LicensedSeats';
import { NotificationItem, useMarkRead, useUnreadNotifications } from '../components/Notifications';
import { useSession } from '../session';
import { STEP_NAMES } from './EntraSettingsPage';

const DAY = 24 * 3600 * 1000;

/** The organization at a glance: directory size, connection health, last successful and next sync. */
export function OverviewPage() {
  const org = useOrgRef();
  const base = orgPath(org);
  const isOperator = useSession().session?.principal.type === 'operator';
  const current = useQuery({
    queryKey: keys.organization(org),
    queryFn: () => api<Organization>('GET', base),
  });
  const users = useQuery({
    queryKey: keys.listCount(org, 'users'),
    queryFn: () => api<Page<User>>('GET', `${base}/users${query({ limit: 1 })}`),
  });
  const groups = useQuery({
    queryKey: keys.listCount(org, 'groups'),
    queryFn: () => api<Page<DirectoryGroup>>('GET', `${base}/groups${query({ limit: 1 })}`),
  });
  const settings = useQuery({
    queryKey: keys.entraSettings(org),
    queryFn: () => api<EntraSettings>('GET', `${base}/entra-settings`),
  });
  const overview = useQuery({
    queryKey: keys.overview(org),
    queryFn: () => api<SyncOverview>('GET', `${base}/overview`),
  });
  const unread = useUnreadNotifications(org);
  const markRead = useMarkRead(org);
  const test = useMutation({ mutationFn: () => api<ConnectionTest>('POST', `${base}/entra-settings/test`) });

  const s = settings.data;
  const o = overview.data;
  const expiresAt = s?.secret.expiresAt ? new Date(`${s.secret.expiresAt}T00:00:00Z`) : null;
  const daysLeft = expiresAt ? Math.floor((expiresAt.getTime() - Date.now()) / DAY) : null;
  const configured = o?.connection.configured ?? s?.configured ?? false;

  return (
    <Stack>
      <Title order={1}>{current.data?.name ?? 'Overview'}</Title>
      {current.data && (
        <Text c="dimmed">
          Domains: {current.data.domains.join(', ') || 'none verified yet'}
          {current.data.pendingDomains.length > 0 && (
            <>
              {' '}
              · Pending, accepting no address until proven: {current.data.pendingDomains.join(', ')} (
              <Anchor component={Link} to={`/orgs/${org}/domains`}>
                prove on the Domains page
              </Anchor>
              )
            </>
          )}
        </Text>
      )}
      {current.data && (
        <Text c="dimmed" data-testid="licensed-seats">
          Licensed seats: {licensedSeatsValue(current.data.licensedSeats)} (shared, room and equipment
          mailboxes are not billed).{' '}
          {isOperator ? 'Set it under All organizations.' : 'Your provider sets it.'}
        </Text>
      )}
      {overview.error && <ErrorAlert error={overview.error} />}
      {o?.heldRun && <HeldRun org={org} runId={o.heldRun.runId} reason={o.heldRun.reason} />}
      <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
        <Stat label="Users" value={users.data?.total} to={`/orgs/${org}/users`} />
        <Stat label="Groups" value={groups.data?.total} to={`/orgs/${org}/groups`} />
        <Card withBorder component="section" aria-label="Last successful sync">
          <Text size="sm" c="dimmed">
            Last successful sync
          </Text>
          <Text fw={600}>
            {o?.lastSuccessfulSync
              ? when(o.lastSuccessfulSync.finishedAt ?? o.lastSuccessfulSync.startedAt)
              : 'None yet'}
          </Text>
          {o?.lastSuccessfulSync && (
            <Anchor size="sm" component={Link} to={`/orgs/${org}/history/${o.lastSuccessfulSync.runId}`}>
              Open the run
            </Anchor>
          )}
        </Card>
        <Card withBorder component="section" aria-label="Next scheduled sync">
          <Text size="sm" c="dimmed">
            Next scheduled sync
          </Text>
          <Text fw={600}>
            {o?.nextScheduledSync
              ? when(o.nextScheduledSync)
              : o?.heldRun
                ? 'Paused until the held sync is decided'
                : o?.frequencyHours
                  ? 'Not scheduled'
                  : 'None (manual syncs only)'}
          </Text>
          {o?.frequencyHours ? (
            <Text size="sm">Every {o.frequencyHours} h, applying every change without review</Text>
          ) : null}
        </Card>
      </SimpleGrid>

      <Card withBorder component="section" aria-labelledby="health-title">
        <Stack gap="xs">
          <Group justify="space-between">
            <Title order={2} size="h4" id="health-title">
              Azure Active Directory connection
            </Title>
            <HealthBadge overview={o} test={test.data} />
          </Group>
          {settings.error && <ErrorAlert error={settings.error} />}
          {!configured && (
            <Text>
              Not set up yet:{' '}
              <Anchor component={Link} to={`/orgs/${org}/settings/import-users/azure-ad`}>
                connect the tenant under Import Users → Azure Active Directory
              </Anchor>
              .
            </Text>
          )}
          {configured && s && (
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
          {o?.connection.lastError && !test.data && (
            <Alert
              color="red"
              title={`The last ${o.connection.consecutiveFailures > 1 ? `${o.connection.consecutiveFailures} syncs` : 'sync'} failed${o.connection.lastFailureAt ? ` (${when(o.connection.lastFailureAt)})` : ''}`}
            >
              {o.connection.lastError.hint ?? o.connection.lastError.message}
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
          <Group>
            <Button
              variant="default"
              onClick={() => test.mutate()}
              loading={test.isPending}
              disabled={!configured}
            >
              Test connection now
            </Button>
            <Button
              component={Link}
              to={`/orgs/${org}/settings/users-groups/azure-ad-sync`}
              disabled={!configured}
            >
              Run a manual sync
            </Button>
          </Group>
        </Stack>
      </Card>

      {!!unread.data?.length && (
        <Card withBorder component="section" aria-labelledby="notes-title">
          <Group justify="space-between" mb="xs">
            <Title order={2} size="h4" id="notes-title">
              Notifications ({unread.data.length} unread)
            </Title>
            <Button
              size="xs"
              variant="default"
              onClick={() => markRead.mutate(undefined)}
              loading={markRead.isPending}
            >
              Mark all as read
            </Button>
          </Group>
          <List spacing="xs">
            {unread.data.map((n) => (
              <List.Item key={n.id}>
                <NotificationItem org={org} notification={n} />
              </List.Item>
            ))}
          </List>
        </Card>
      )}
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

/** A test just run says it best; otherwise the server's verdict from the recent runs. */
function HealthBadge({
  overview,
  test,
}: {
  overview: SyncOverview | undefined;
  test: ConnectionTest | undefined;
}) {
  if (!overview?.connection.configured) return <Badge color="gray">Not connected</Badge>;
  if (test) return test.ok ? <Badge color="green">Healthy</Badge> : <Badge color="red">Failing</Badge>;
  if (!overview.lastSuccessfulSync && !overview.connection.lastError)
    return <Badge color="gray">Not synced yet</Badge>;
  return overview.connection.healthy ? (
    <Badge color="green">Healthy</Badge>
  ) : (
    <Badge color="red">Failing</Badge>
  );
}
