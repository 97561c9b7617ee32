import { Badge, Button, Card, Container, Group, List, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { api } from '../api/client';
import { keys } from '../api/keys';
import type { Me } from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { SignOutButtons } from '../components/SignOutButtons';
import { ROLE_NAMES } from '../components/UserForms';
import { homeOf, useSession } from '../session';

/** End users' self-service: their own profile, aliases and whether they get quarantine digests. */
export function MePage() {
  const { session } = useSession();
  const me = useQuery({ queryKey: keys.me, queryFn: () => api<Me>('GET', '/me') });
  const home = session ? homeOf(session) : '/me';
  return (
    <Container size="sm" py="xl" component="main">
      <Stack>
        <Group justify="space-between">
          <Title order={1}>My profile</Title>
          <Group>
            {home !== '/me' && (
              <Button component={Link} to={home} variant="subtle">
                Back to the console
              </Button>
            )}
            <SignOutButtons />
          </Group>
        </Group>
        {me.isPending && <Loading />}
        {me.error && <ErrorAlert error={me.error} />}
        {me.data && (
          <Card withBorder>
            <Stack gap="sm">
              <Text size="xl" fw={600}>
                {me.data.user.displayName ??
                  ([me.data.user.firstName, me.data.user.lastName].filter(Boolean).join(' ') ||
                    me.data.user.email)}
              </Text>
              <Text>
                <b>Address:</b> {me.data.user.email}
              </Text>
              <Text>
                <b>Organization:</b> {me.data.organization.name}
              </Text>
              <Group gap="xs">
                <b>Role:</b>
                <Badge variant="light">{ROLE_NAMES[me.data.user.role]}</Badge>
              </Group>
              <div>
                <b>Aliases</b>
                {me.data.user.aliases.length ? (
                  <List>
                    {me.data.user.aliases.map((a) => (
                      <List.Item key={a}>{a}</List.Item>
                    ))}
                  </List>
                ) : (
                  <Text c="dimmed">No aliases.</Text>
                )}
              </div>
              <Text>
                <b>Quarantine digests:</b>{' '}
                {me.data.receivesQuarantineDigests
                  ? 'You receive quarantine digests: a regular email listing messages held for you.'
                  : 'You do not receive quarantine digests.'}
              </Text>
            </Stack>
          </Card>
        )}
      </Stack>
    </Container>
  );
}
