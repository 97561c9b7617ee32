import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import { afterDirectoryChange, keys } from '../api/keys';
import type { Group as DirectoryGroup, GroupDetail } from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { GROUPS, useExemptToggle, useServerList } from '../components/directory-lists';
import { ConfirmDialog } from '../components/forms';
import { GroupFormModal } from '../components/GroupForms';
import { orgPath, useOrgRef } from '../components/hooks';
import { toast } from '../toast';
import { sourceName } from './UsersPage';

const KIND_NAMES = { distribution: 'Distribution', security: 'Security' } as const;

/** The organization's groups: searchable, paged on the server. */
export function GroupsPage() {
  const org = useOrgRef();
  const {
    list: groups,
    search,
    searching,
    setSearch,
    page,
    setPage,
    pageSize,
    setPageSize,
  } = useServerList<DirectoryGroup>(org, GROUPS);
  const exempt = useExemptToggle<DirectoryGroup>(org, GROUPS, (g) => g.name);
  const [adding, setAdding] = useState(false);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Groups</Title>
        <Button onClick={() => setAdding(true)}>Add group</Button>
      </Group>
      <GroupFormModal org={org} opened={adding} onClose={() => setAdding(false)} />
      <TextInput
        label="Search groups"
        description="By name or address."
        value={search}
        onChange={(e) => {
          setSearch(e.currentTarget.value);
        }}
        maw={420}
      />
      {groups.error && <ErrorAlert error={groups.error} />}
      <DataTable
        aria-label="Groups"
        withTableBorder
        striped
        minHeight={160}
        fetching={groups.isFetching}
        records={groups.data?.items ?? []}
        totalRecords={groups.data?.total ?? 0}
        page={page}
        onPageChange={setPage}
        recordsPerPage={pageSize}
        recordsPerPageOptions={[25, 50, 100, 250]}
        onRecordsPerPageChange={(n) => {
          setPageSize(n);
        }}
        noRecordsText={searching ? 'No group matches the search.' : 'No groups yet.'}
        columns={[
          {
            accessor: 'name',
            title: 'Name',
            render: (g) => (
              <Anchor component={Link} to={`/orgs/${org}/groups/${g.id}`}>
                {g.name}
              </Anchor>
            ),
          },
          { accessor: 'kind', title: 'Kind', render: (g) => KIND_NAMES[g.kind] },
          { accessor: 'email', title: 'Address', render: (g) => g.email ?? '—' },
          { accessor: 'members', title: 'Direct members', render: (g) => g.members.length },
          { accessor: 'source', title: 'Source', render: (g) => sourceName(g.source) },
          {
            accessor: 'exempt',
            title: 'Exempt from sync',
            render: (g) => (
              <Switch
                aria-label={`Exempt ${g.name} from sync`}
                checked={g.exempt}
                onChange={(e) => exempt.mutate({ id: g.id, exempt: e.currentTarget.checked })}
              />
            ),
          },
        ]}
      />
    </Stack>
  );
}

/** One group: kind, address, aliases, direct and effective (through nested groups) members. */
export function GroupPage() {
  const org = useOrgRef();
  const { id } = useParams();
  const group = useQuery({
    queryKey: keys.item(org, 'group', id),
    queryFn: () => api<GroupDetail>('GET', `${orgPath(org)}/groups/${encodeURIComponent(id!)}`),
  });
  const exempt = useExemptToggle<DirectoryGroup>(org, GROUPS, (g) => g.name);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const remove = useMutation({
    mutationFn: (g: GroupDetail) => api('DELETE', `${orgPath(org)}/groups/${g.id}`),
    onSuccess: (_, g) => {
      toast({ color: 'green', message: `Group ${g.name} deleted.` });
      // Dropped, not just invalidated: the list must not show the deleted group while it refetches.
      queryClient.removeQueries({ queryKey: keys.list(org, 'groups') });
      queryClient.removeQueries({ queryKey: keys.item(org, 'group', g.id) });
      afterDirectoryChange(queryClient, org);
      navigate(`/orgs/${org}/groups`);
    },
  });
  if (group.isPending) return <Loading />;
  if (group.error) return <ErrorAlert error={group.error} />;
  const g = group.data;
  return (
    <Stack>
      <Anchor component={Link} to={`/orgs/${org}/groups`}>
        ← Groups
      </Anchor>
      <Group justify="space-between">
        <Group>
          <Title order={1}>{g.name}</Title>
          <Badge variant="light">{KIND_NAMES[g.kind]}</Badge>
          {g.email && <Badge variant="outline">Functional account</Badge>}
        </Group>
        <Group>
          <Button variant="default" onClick={() => setEditing(true)}>
            Edit group
          </Button>
          <Button
            color="red"
            variant="light"
            onClick={() => {
              remove.reset();
              setDeleting(true);
            }}
          >
            Delete group
          </Button>
        </Group>
      </Group>
      <GroupFormModal org={org} group={g} opened={editing} onClose={() => setEditing(false)} />
      <ConfirmDialog
        opened={deleting}
        title={`Delete ${g.name}?`}
        confirmLabel="Delete group"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(g)}
        onClose={() => setDeleting(false)}
      >
        The group is removed, and with it its membership in other groups; its members are kept.
        {g.source === 'entra' && !g.exempt
          ? ' It is synced from Entra ID: the next sync adds it again while it is in Entra.'
          : ''}
      </ConfirmDialog>
      <Card withBorder>
        <Table variant="vertical" layout="fixed" withRowBorders={false}>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th w={160}>Address</Table.Th>
              <Table.Td>{g.email ?? 'None (receives no mail)'}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Aliases</Table.Th>
              <Table.Td>{g.aliases.join(', ') || 'None'}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Source</Table.Th>
              <Table.Td>
                {sourceName(g.source)}
                {g.externalId ? ` (Entra object ${g.externalId})` : ''}
              </Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Card>
      <Switch
        label="Exempt from sync"
        description="An exempt group is never changed or removed by a sync, automatic or manual."
        checked={g.exempt}
        onChange={(e) => exempt.mutate({ id: g.id, exempt: e.currentTarget.checked })}
      />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <MemberList
          title={`Direct members (${g.members.length})`}
          hint="Users and nested groups"
          items={g.members}
        />
        <MemberList
          title={`Effective members (${g.effectiveMembers.length})`}
          hint="Every user reached, also through nested groups"
          items={g.effectiveMembers}
        />
      </SimpleGrid>
    </Stack>
  );
}

function MemberList({ title, hint, items }: { title: string; hint: string; items: string[] }) {
  return (
    <Card withBorder component="section" aria-label={title}>
      <Title order={2} size="h4">
        {title}
      </Title>
      <Text size="sm" c="dimmed" mb="xs">
        {hint}
      </Text>
      {items.length ? (
        <List size="sm" spacing={2} style={{ maxHeight: 400, overflow: 'auto' }}>
          {items.map((m) => (
            <List.Item key={m}>{m}</List.Item>
          ))}
        </List>
      ) : (
        <Text c="dimmed">None.</Text>
      )}
    </Card>
  );
}
