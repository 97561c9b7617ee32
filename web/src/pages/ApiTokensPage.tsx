import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  CopyButton,
  Group,
  NumberInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { TOKEN_DAYS } from '../../../src/contract/limits.js';
import type { CreatedApiToken, NewApiTokenBody } from '../../../src/contract/organizations.js';
import { api } from '../api/client';
import { keys } from '../api/keys';
import type { ApiToken } from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { ConfirmDialog, showFieldError } from '../components/forms';
import { orgPath, useOrgRef } from '../components/hooks';
import { toast } from '../toast';

/** The form: the contract's body, every field filled. */
type NewToken = Required<NewApiTokenBody>;

/** The organization's API tokens: list, create (the token is shown once), revoke. */
export function ApiTokensPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const [created, setCreated] = useState<(Omit<CreatedApiToken, 'id'> & { name: string }) | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const tokens = useQuery({
    queryKey: keys.apiTokens(org),
    queryFn: () => api<ApiToken[]>('GET', `${orgPath(org)}/api-tokens`),
  });
  const form = useForm<{ name: string; expiresInDays: number | string; canCreateTokens: boolean }>({
    initialValues: { name: '', expiresInDays: TOKEN_DAYS.default, canCreateTokens: false },
    validate: {
      name: (v) => (v.trim() ? null : 'Give the token a name that says what uses it.'),
      expiresInDays: (v) =>
        Number.isInteger(v) && Number(v) >= 1 && Number(v) <= TOKEN_DAYS.max
          ? null
          : `A token lives 1 to ${TOKEN_DAYS.max} days (whole days).`,
    },
  });
  const create = useMutation({
    mutationFn: (input: NewToken) => api<CreatedApiToken>('POST', `${orgPath(org)}/api-tokens`, input),
    onMutate: () => setCreated(null),
    onSuccess: (result, input) => {
      setCreated({ name: input.name, token: result.token, expiresAt: result.expiresAt });
      form.reset();
      void queryClient.invalidateQueries({ queryKey: keys.apiTokens(org) });
    },
    onError: (error) => {
      if (!showFieldError(form, ['name', 'expiresInDays'], error)) form.setFieldError('name', error.message);
    },
  });
  const revoke = useMutation({
    mutationFn: (token: ApiToken) =>
      api('DELETE', `${orgPath(org)}/api-tokens/${encodeURIComponent(token.id)}`),
    onSuccess: (_, token) => {
      setRevoking(null);
      toast({ color: 'green', message: `Token ${token.name} revoked: it no longer works.` });
      void queryClient.invalidateQueries({ queryKey: keys.apiTokens(org) });
    },
  });

  return (
    <Stack>
      <Title order={1}>API tokens</Title>
      <Text c="dimmed">
        A token lets a script use the JSON API as an administrator of this organization: send it as{' '}
        <Code>Authorization: Bearer …</Code>. A token stops working when it expires (at most a year after it
        was made) and when the person who made it leaves the organization, is deactivated or stops being an
        administrator. Revoke a token as soon as nothing uses it any more.
      </Text>
      {tokens.error && <ErrorAlert error={tokens.error} />}
      <DataTable
        aria-label="API tokens"
        withTableBorder
        striped
        minHeight={120}
        fetching={tokens.isFetching}
        records={tokens.data ?? []}
        noRecordsText="No API tokens yet."
        columns={[
          { accessor: 'name', title: 'Name' },
          { accessor: 'createdBy', title: 'Created by' },
          { accessor: 'createdAt', title: 'Created', render: (t) => when(t.createdAt) },
          {
            accessor: 'lastUsedAt',
            title: 'Last used',
            render: (t) => (t.lastUsedAt ? when(t.lastUsedAt) : 'Never'),
          },
          {
            accessor: 'expiresAt',
            title: 'Expires',
            render: (t) =>
              new Date(t.expiresAt).getTime() <= Date.now() ? (
                <Group gap={4} wrap="nowrap">
                  <Badge color="red" variant="light">
                    Expired
                  </Badge>
                  {when(t.expiresAt)}
                </Group>
              ) : (
                when(t.expiresAt)
              ),
          },
          {
            accessor: 'canCreateTokens',
            title: 'Creates tokens',
            render: (t) => (t.canCreateTokens ? 'Yes' : 'No'),
          },
          {
            accessor: 'actions',
            title: 'Actions',
            render: (t) => (
              <Button
                size="xs"
                variant="subtle"
                color="red"
                aria-label={`Revoke ${t.name}`}
                onClick={() => {
                  revoke.reset();
                  setRevoking(t);
                }}
              >
                Revoke
              </Button>
            ),
          },
        ]}
      />
      {created && (
        <Alert
          color="green"
          title={`Token ${created.name} created`}
          role="status"
          withCloseButton
          onClose={() => setCreated(null)}
        >
          <Stack gap="xs">
            <Text size="sm">
              Copy it now: it is shown only this once, and cannot be read back later. It works until{' '}
              {when(created.expiresAt)}.
            </Text>
            <Group gap="xs" wrap="nowrap">
              <Code data-testid="new-token" style={{ wordBreak: 'break-all' }}>
                {created.token}
              </Code>
              <CopyButton value={created.token}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="default" onClick={copy}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        </Alert>
      )}
      <Card withBorder maw={640} component="section" aria-labelledby="new-token-title">
        <form
          onSubmit={form.onSubmit((v) =>
            create.mutate({
              name: v.name.trim(),
              expiresInDays: Number(v.expiresInDays),
              canCreateTokens: v.canCreateTokens,
            }),
          )}
          noValidate
        >
          <Stack>
            <Title order={2} size="h4" id="new-token-title">
              Create a token
            </Title>
            <Group align="flex-start">
              <TextInput
                label="Token name"
                description="What uses it, e.g. “nightly export”."
                {...form.getInputProps('name')}
              />
              <NumberInput
                label="Expires in (days)"
                description={`1 to ${TOKEN_DAYS.max}.`}
                min={1}
                max={TOKEN_DAYS.max}
                allowDecimal={false}
                allowNegative={false}
                w={160}
                {...form.getInputProps('expiresInDays')}
              />
              <Button type="submit" mt={46} loading={create.isPending}>
                Create token
              </Button>
            </Group>
            <Checkbox
              label="May create tokens"
              description="Lets scripts using this token create further tokens (which expire no later than it does). Leave it off unless a script must."
              {...form.getInputProps('canCreateTokens', { type: 'checkbox' })}
            />
          </Stack>
        </form>
      </Card>
      <ConfirmDialog
        opened={revoking !== null}
        title={`Revoke ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke token"
        pending={revoke.isPending}
        error={revoke.error}
        onConfirm={() => revoking && revoke.mutate(revoking)}
        onClose={() => setRevoking(null)}
      >
        Anything still using this token is refused from now on.
      </ConfirmDialog>
    </Stack>
  );
}
