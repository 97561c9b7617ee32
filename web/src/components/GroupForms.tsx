import { Alert, Button, Group, Modal, Radio, Stack, TagsInput, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, query } from '../api/client';
import { afterDirectoryChange, keys } from '../api/keys';
import type { Group as DirectoryGroup, GroupKind, NewGroupBody, Page, User } from '../api/types';
import { toast } from '../toast';
import { addressDomainsHint, useOrganization } from './domains';
import { showFieldError } from './forms';
import { orgPath } from './hooks';

interface GroupValues {
  name: string;
  kind: GroupKind;
  email: string;
  aliases: string[];
  members: string[];
}

const FIELDS = ['name', 'kind', 'email', 'aliases', 'members'] as const;

/** Users and groups matching what is typed in the members field, as the API names members. */
function useMemberSuggestions(org: string, typed: string, self: string | undefined): string[] {
  const [search] = useDebouncedValue(typed.trim(), 200);
  const found = useQuery({
    queryKey: keys.memberSuggestionsFor(org, search),
    queryFn: async () => {
      const q = query({ search, limit: 10 });
      const [users, groups] = await Promise.all([
        api<Page<User>>('GET', `${orgPath(org)}/users${q}`),
        api<Page<DirectoryGroup>>('GET', `${orgPath(org)}/groups${q}`),
      ]);
      return [
        ...users.items.map((u) => u.email),
        ...groups.items.filter((g) => g.id !== self).map((g) => g.email ?? g.name),
      ];
    },
    enabled: search.length >= 2,
    placeholderData: keepPreviousData,
  });
  return search.length >= 2 ? (found.data ?? []) : [];
}

/** Adds a group (`group` absent) or edits one: name, kind, address, aliases and members. */
export function GroupFormModal({
  org,
  group,
  opened,
  onClose,
}: {
  org: string;
  group?: DirectoryGroup;
  opened: boolean;
  onClose: () => void;
}) {
  // The form lives inside the dialog, so each opening starts from the group as it is now.
  return (
    <Modal opened={opened} onClose={onClose} title={group ? `Edit ${group.name}` : 'Add a group'} size="lg">
      <GroupForm org={org} group={group} onClose={onClose} />
    </Modal>
  );
}

function GroupForm({ org, group, onClose }: { org: string; group?: DirectoryGroup; onClose: () => void }) {
  const queryClient = useQueryClient();
  const current = useOrganization(org);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<GroupValues>({
    initialValues: {
      name: group?.name ?? '',
      kind: group?.kind ?? 'distribution',
      email: group?.email ?? '',
      aliases: group?.aliases ?? [],
      members: group?.members ?? [],
    },
    validate: { name: (v) => (v.trim() ? null : 'Give the group a name.') },
  });
  const [memberSearch, setMemberSearch] = useState('');
  const suggestions = useMemberSuggestions(org, memberSearch, group?.id);
  const save = useMutation({
    mutationFn: (v: GroupValues) => {
      const body: NewGroupBody = {
        name: v.name.trim(),
        kind: v.kind,
        email: v.email.trim() || null,
        aliases: v.aliases,
        members: v.members,
      };
      return group
        ? api<DirectoryGroup>('PATCH', `${orgPath(org)}/groups/${group.id}`, body)
        : api<DirectoryGroup>('POST', `${orgPath(org)}/groups`, body);
    },
    onMutate: () => setFormError(null),
    onSuccess: (saved) => {
      toast({
        color: 'green',
        message: group ? `${saved.name} was saved.` : `Group ${saved.name} added.`,
      });
      afterDirectoryChange(queryClient, org);
      onClose();
    },
    onError: (error) => {
      if (!showFieldError(form, FIELDS, error)) setFormError(error.message);
    },
  });

  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
      <Stack>
        {group?.source === 'entra' && (
          <Alert color="yellow">
            This group is synced from Entra ID: the next sync sets it back to Entra’s unless it is exempt from
            sync.
          </Alert>
        )}
        <TextInput label="Name" required data-autofocus {...form.getInputProps('name')} />
        <Radio.Group label="Kind" {...form.getInputProps('kind')}>
          <Stack gap="xs" mt="xs">
            <Radio
              value="distribution"
              label="Distribution"
              description="A mailing list: mail to it reaches every member."
            />
            <Radio
              value="security"
              label="Security"
              description="Groups people for policies; may have no address."
            />
          </Stack>
        </Radio.Group>
        <TextInput
          label="Address"
          description={addressDomainsHint("Optional: the group's email address", current.data)}
          {...form.getInputProps('email')}
        />
        <TagsInput
          label="Aliases"
          description="Other addresses of the group (only with an address). Type one and press Enter."
          splitChars={[',', ' ']}
          clearable
          {...form.getInputProps('aliases')}
        />
        <TagsInput
          label="Members"
          description="Users by address; groups by address or name. Type to search, press Enter to add."
          splitChars={[',']}
          clearable
          searchValue={memberSearch}
          onSearchChange={setMemberSearch}
          data={suggestions}
          {...form.getInputProps('members')}
        />
        {formError && (
          <Alert color="red" role="alert" title="Not saved">
            {formError}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {group ? 'Save group' : 'Add group'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
