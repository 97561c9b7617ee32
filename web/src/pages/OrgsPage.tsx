import { Button, Card, Group, Stack, TagsInput, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { Navigate, useNavigate } from 'react-router';
import { ApiError, api } from '../api/client';
import { keys } from '../api/keys';
import type { Organization } from '../api/types';
import { ErrorAlert, when } from '../components/common';
import { LicensedSeatsModal, licensedSeatsValue } from '../components/LicensedSeats';
import { homeOf, useSession } from '../session';
import { toast } from '../toast';

/** Operators: every organization with its licence, and a form to create one. */
export function OrgsPage() {
  const { session } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const orgs = useQuery({ queryKey: keys.orgs, queryFn: () => api<Organization[]>('GET', '/orgs') });
  const [seatsOf, setSeatsOf] = useState<Organization | null>(null);
  const form = useForm({
    initialValues: { name: '', domains: [] as string[] },
    validate: {
      name: (v) => (v.trim() ? null : 'Give the organization a name.'),
      domains: (v) => (v.length ? null : 'Add at least one domain (type it and press Enter).'),
    },
  });
  const create = useMutation({
    mutationFn: (values: { name: string; domains: string[] }) =>
      api<Organization>('POST', '/orgs', { name: values.name.trim(), domains: values.domains }),
    onSuccess: (org) => {
      toast({ color: 'green', message: `Organization ${org.name} created.` });
      void queryClient.invalidateQueries({ queryKey: keys.orgs });
      navigate(`/orgs/${org.id}/overview`);
    },
    onError: (error) => {
      const onDomains = error instanceof ApiError && /domain/i.test(`${error.field ?? ''} ${error.message}`);
      form.setFieldError(onDomains ? 'domains' : 'name', error.message);
    },
  });

  if (session && session.principal.type !== 'operator') return <Navigate to={homeOf(session)} replace />;

  return (
    <Stack>
      <Title order={1}>Organizations</Title>
      {orgs.error && <ErrorAlert error={orgs.error} />}
      <DataTable
        withTableBorder
        highlightOnHover
        minHeight={120}
        fetching={orgs.isPending}
        records={orgs.data ?? []}
        noRecordsText="No organizations yet: create the first one below."
        columns={[
          { accessor: 'name', title: 'Name' },
          {
            accessor: 'domains',
            title: 'Domains',
            // Pending ones named as such: they accept no address until the organization proves them.
            render: (o) => [...o.domains, ...o.pendingDomains.map((d) => `${d} (pending)`)].join(', '),
          },
          { accessor: 'createdAt', title: 'Created', render: (o) => when(o.createdAt) },
          {
            accessor: 'licensedSeats',
            title: 'Licensed seats',
            render: (o) => (
              <Group gap="xs" wrap="nowrap">
                <Text size="sm">{licensedSeatsValue(o.licensedSeats)}</Text>
                <Button
                  size="compact-xs"
                  variant="default"
                  aria-label={`Set the licensed seats of ${o.name}`}
                  // The row opens the organization: a click or Enter here must not reach it.
                  onClick={(e) => {
                    e.stopPropagation();
                    setSeatsOf(o);
                  }}
                  onKeyDown={(e) => e.stopPropagation()}
                >
                  Set
                </Button>
              </Group>
            ),
          },
        ]}
        onRowClick={({ record }) => navigate(`/orgs/${record.id}/overview`)}
        customRowAttributes={(o) => ({
          tabIndex: 0,
          'aria-label': `Open ${o.name}`,
          onKeyDown: (e: React.KeyboardEvent) => {
            if (e.key === 'Enter') navigate(`/orgs/${o.id}/overview`);
          },
        })}
      />
      {seatsOf && <LicensedSeatsModal org={seatsOf} opened onClose={() => setSeatsOf(null)} />}
      <Card withBorder component="section" aria-labelledby="create-org">
        <form onSubmit={form.onSubmit((v) => create.mutate(v))} noValidate>
          <Stack>
            <Title order={2} size="h3" id="create-org">
              Create an organization
            </Title>
            <TextInput label="Name" required {...form.getInputProps('name')} />
            <TagsInput
              label="Domains"
              description="Type a domain and press Enter; add every domain the company receives mail for. An operator's domains count at once, without proof: add only domains the company owns."
              required
              splitChars={[',', ' ']}
              {...form.getInputProps('domains')}
            />
            <Group>
              <Button type="submit" loading={create.isPending}>
                Create organization
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
    </Stack>
  );
}
