import {
  Button,
  Card,
  Group,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client';
import type { Organization } from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { orgPath, useOrgRef } from '../components/hooks';

/** The organization's mail domains: sync accepts addresses in these domains only. */
export function DomainsPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const [removing, setRemoving] = useState<string | null>(null);
  const current = useQuery({
    queryKey: ['org', org],
    queryFn: () => api<Organization>('GET', orgPath(org)),
  });
  const form = useForm({
    initialValues: { domain: '' },
    validate: { domain: (v) => (v.trim() ? null : 'Type the domain, e.g. contoso.com.') },
  });
  const refresh = (updated: Organization) => queryClient.setQueryData(['org', org], updated);
  const add = useMutation({
    mutationFn: (domain: string) => api<Organization>('POST', `${orgPath(org)}/domains`, { domain }),
    onSuccess: (updated, domain) => {
      refresh(updated);
      form.reset();
      notifications.show({ color: 'green', message: `Domain ${domain} added.` });
    },
    onError: (error) => form.setFieldError('domain', error.message),
  });
  const remove = useMutation({
    mutationFn: (domain: string) =>
      api<Organization>('DELETE', `${orgPath(org)}/domains/${encodeURIComponent(domain)}`),
    onSuccess: (updated, domain) => {
      refresh(updated);
      setRemoving(null);
      notifications.show({ color: 'green', message: `Domain ${domain} removed.` });
    },
  });

  if (current.isPending) return <Loading />;
  if (current.error) return <ErrorAlert error={current.error} />;
  return (
    <Stack>
      <Title order={1}>Domains</Title>
      <Text c="dimmed">
        Sync accepts only addresses in these domains; an alias in another domain is left out with a warning.
      </Text>
      <Table withTableBorder maw={640} aria-label="Domains">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Domain</Table.Th>
            <Table.Th w={120}>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {current.data.domains.map((d) => (
            <Table.Tr key={d}>
              <Table.Td>{d}</Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Remove ${d}`}
                  onClick={() => {
                    remove.reset();
                    setRemoving(d);
                  }}
                >
                  Remove
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Card withBorder maw={640} component="section" aria-labelledby="add-domain">
        <form onSubmit={form.onSubmit((v) => add.mutate(v.domain.trim()))} noValidate>
          <Stack>
            <Title order={2} size="h4" id="add-domain">
              Add a domain
            </Title>
            <Group align="flex-start">
              <TextInput label="Domain" placeholder="contoso.com" {...form.getInputProps('domain')} />
              <Button type="submit" mt={25} loading={add.isPending}>
                Add domain
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Modal opened={removing !== null} onClose={() => setRemoving(null)} title={`Remove ${removing}?`}>
        <Stack>
          <Text>
            Users and groups keep their addresses, but the next sync will treat addresses in {removing} as
            foreign and skip them.
          </Text>
          {remove.error && <ErrorAlert error={remove.error} title="Not removed" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() => removing && remove.mutate(removing)}
            >
              Remove domain
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
