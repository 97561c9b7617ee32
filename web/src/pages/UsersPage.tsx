import {
  Anchor,
  Badge,
  Button,
  Card,
  Group,
  List,
  Select,
  Stack,
  Switch,
  Table,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from 'mantine-datatable';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { api } from '../api/client';
import { afterDirectoryChange, keys } from '../api/keys';
import type { User } from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { PAGE_SIZES, USERS, useExemptToggle, useServerList } from '../components/directory-lists';
import { ConfirmDialog } from '../components/forms';
import { orgPath, useOrgRef } from '../components/hooks';
import { MAILBOX_FILTERS, MailboxBadge, mailboxMeaning, RecipientFacts } from '../components/recipients';
import { PasswordForm, ROLE_NAMES, UserFormModal } from '../components/UserForms';
import { toast } from '../toast';

const MAILBOX_OPTIONS = Object.entries(MAILBOX_FILTERS).map(([value, label]) => ({ value, label }));

/** The organization's users: searchable, filtered by mailbox, paged on the server. */
export function UsersPage() {
  const org = useOrgRef();
  const {
    list: users,
    search,
    searching,
    setSearch,
    filters,
    filtering,
    setFilter,
    page,
    setPage,
    pageSize,
    setPageSize,
  } = useServerList<User>(org, USERS);
  const exempt = useExemptToggle<User>(org, USERS, (u) => u.email);
  const [adding, setAdding] = useState(false);

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>Users</Title>
        <Button onClick={() => setAdding(true)}>Add user</Button>
      </Group>
      <UserFormModal org={org} opened={adding} onClose={() => setAdding(false)} />
      <Group align="flex-start">
        <TextInput
          label="Search users"
          description="By address, alias or name."
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
          }}
          w={420}
        />
        <Select
          label="Mailbox"
          description="Exchange is asked a mailbox's purpose only when its sign-in is blocked."
          data={MAILBOX_OPTIONS}
          value={filters.mailbox ?? 'all'}
          onChange={(value) => setFilter('mailbox', value && value !== 'all' ? value : undefined)}
          allowDeselect={false}
          w={420}
        />
      </Group>
      {users.error && <ErrorAlert error={users.error} />}
      <DataTable
        aria-label="Users"
        withTableBorder
        striped
        minHeight={160}
        fetching={users.isFetching}
        records={users.data?.items ?? []}
        totalRecords={users.data?.total ?? 0}
        page={page}
        onPageChange={setPage}
        recordsPerPage={pageSize}
        recordsPerPageOptions={PAGE_SIZES}
        onRecordsPerPageChange={(n) => {
          setPageSize(n);
        }}
        noRecordsText={
          searching
            ? 'No user matches the search.'
            : filtering
              ? 'No user matches the filter.'
              : 'No users yet.'
        }
        columns={[
          {
            accessor: 'email',
            title: 'Address',
            render: (u) => (
              <Anchor component={Link} to={`/orgs/${org}/users/${u.id}`}>
                {u.email}
              </Anchor>
            ),
          },
          { accessor: 'name', title: 'Name', render: (u) => userName(u) },
          { accessor: 'role', title: 'Role', render: (u) => ROLE_NAMES[u.role] },
          { accessor: 'mailbox', title: 'Mailbox', render: (u) => <MailboxBadge mailbox={u.mailbox} /> },
          { accessor: 'status', title: 'Status', render: (u) => <StatusBadge status={u.status} /> },
          { accessor: 'source', title: 'Source', render: (u) => sourceName(u.source) },
          { accessor: 'aliases', title: 'Aliases', render: (u) => u.aliases.join(', ') || '—' },
          {
            accessor: 'exempt',
            title: 'Exempt from sync',
            render: (u) => (
              <Switch
                aria-label={`Exempt ${u.email} from sync`}
                checked={u.exempt}
                onChange={(e) => exempt.mutate({ id: u.id, exempt: e.currentTarget.checked })}
              />
            ),
          },
        ]}
      />
    </Stack>
  );
}

/** One user: role, status, mailbox and what it gets, source, aliases, the exempt toggle; edit, delete, console password. */
export function UserPage() {
  const org = useOrgRef();
  const { id } = useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const user = useQuery({
    queryKey: keys.item(org, 'user', id),
    queryFn: () => api<User>('GET', `${orgPath(org)}/users/${encodeURIComponent(id!)}`),
  });
  const exempt = useExemptToggle<User>(org, USERS, (u) => u.email);
  const remove = useMutation({
    mutationFn: (u: User) => api('DELETE', `${orgPath(org)}/users/${u.id}`),
    onSuccess: (_, u) => {
      toast({ color: 'green', message: `User ${u.email} deleted.` });
      // Dropped, not just invalidated: the list we go back to must not show the deleted user
      // while it refetches.
      queryClient.removeQueries({ queryKey: keys.list(org, 'users') });
      queryClient.removeQueries({ queryKey: keys.item(org, 'user', u.id) });
      afterDirectoryChange(queryClient, org);
      navigate(`/orgs/${org}/users`);
    },
  });
  if (user.isPending) return <Loading />;
  if (user.error) return <ErrorAlert error={user.error} />;
  const u = user.data;
  return (
    <Stack>
      <Anchor component={Link} to={`/orgs/${org}/users`}>
        ← Users
      </Anchor>
      <Group justify="space-between">
        <Title order={1}>{userName(u) || u.email}</Title>
        <Group>
          <Button variant="default" onClick={() => setEditing(true)}>
            Edit user
          </Button>
          <Button
            color="red"
            variant="light"
            onClick={() => {
              remove.reset();
              setDeleting(true);
            }}
          >
            Delete user
          </Button>
        </Group>
      </Group>
      <UserFormModal org={org} user={u} opened={editing} onClose={() => setEditing(false)} />
      <ConfirmDialog
        opened={deleting}
        title={`Delete ${u.email}?`}
        confirmLabel="Delete user"
        pending={remove.isPending}
        error={remove.error}
        onConfirm={() => remove.mutate(u)}
        onClose={() => setDeleting(false)}
      >
        The user, its aliases and its group memberships are removed; mail to its addresses is no longer
        accepted.
        {u.source === 'entra' && !u.exempt
          ? ' It is synced from Entra ID: the next sync adds it again while it is in Entra.'
          : ''}
      </ConfirmDialog>
      <Card withBorder>
        <Table variant="vertical" layout="fixed" withRowBorders={false}>
          <Table.Tbody>
            <Row label="Address">{u.email}</Row>
            <Row label="Role">{ROLE_NAMES[u.role]}</Row>
            <Row label="Status">
              <StatusBadge status={u.status} />
            </Row>
            <Row label="Mailbox">{mailboxMeaning(u.mailbox)}</Row>
            <Row label="What it gets">
              <RecipientFacts user={u} />
            </Row>
            <Row label="Source">
              {sourceName(u.source)}
              {u.externalId ? ` (Entra object ${u.externalId})` : ''}
            </Row>
            <Row label="Aliases">
              {u.aliases.length ? (
                <List size="sm">
                  {u.aliases.map((a) => (
                    <List.Item key={a}>{a}</List.Item>
                  ))}
                </List>
              ) : (
                'None'
              )}
            </Row>
          </Table.Tbody>
        </Table>
      </Card>
      <Switch
        label="Exempt from sync"
        description="An exempt user is never changed or removed by a sync, automatic or manual."
        checked={u.exempt}
        onChange={(e) => exempt.mutate({ id: u.id, exempt: e.currentTarget.checked })}
      />
      <Card withBorder component="section" aria-labelledby="password-title">
        <Title order={2} size="h4" id="password-title" mb="xs">
          Console password
        </Title>
        <PasswordForm org={org} user={u} />
      </Card>
    </Stack>
  );
}

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th w={160}>{label}</Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

function StatusBadge({ status }: { status: User['status'] }) {
  return (
    <Badge color={status === 'active' ? 'green' : 'gray'} variant="light" miw="max-content">
      {status === 'active' ? 'Active' : 'Inactive'}
    </Badge>
  );
}

export function sourceName(source: 'manual' | 'entra'): string {
  return source === 'entra' ? 'Entra ID sync' : 'Added by hand';
}

function userName(u: User): string {
  return u.displayName ?? [u.firstName, u.lastName].filter(Boolean).join(' ');
}
