import {
  Alert,
  Button,
  Group,
  Modal,
  PasswordInput,
  Radio,
  Stack,
  TagsInput,
  TextInput,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api/client';
import { afterDirectoryChange, keys } from '../api/keys';
import type { NewUserBody, Role, User } from '../api/types';
import { toast } from '../toast';
import { addressDomainsHint, useOrganization } from './domains';
import { showFieldError } from './forms';
import { orgPath } from './hooks';

export const ROLE_NAMES: Record<Role, string> = {
  org_admin: 'Organization admin',
  end_user: 'End User',
  silent_user: 'Silent User',
};

/** One line each on what a role means, wherever a role is chosen. */
export const ROLE_HINTS: Record<Role, string> = {
  org_admin: 'Manages this organization in the console: users, groups, domains and sync.',
  end_user: 'May sign in to the console and receives quarantine digests.',
  silent_user: 'Protected, but cannot sign in and receives no quarantine digests.',
};

interface UserValues {
  email: string;
  aliases: string[];
  firstName: string;
  lastName: string;
  displayName: string;
  role: Role;
  status: User['status'];
}

const FIELDS = ['email', 'aliases', 'firstName', 'lastName', 'displayName', 'role', 'status'] as const;

/** Adds a user (`user` absent) or edits one: aliases, names, role and status. */
export function UserFormModal({
  org,
  user,
  opened,
  onClose,
}: {
  org: string;
  user?: User;
  opened: boolean;
  onClose: () => void;
}) {
  // The form lives inside the dialog, so each opening starts from the user as it is now.
  return (
    <Modal opened={opened} onClose={onClose} title={user ? `Edit ${user.email}` : 'Add a user'} size="lg">
      <UserForm org={org} user={user} onClose={onClose} />
    </Modal>
  );
}

function UserForm({ org, user, onClose }: { org: string; user?: User; onClose: () => void }) {
  const queryClient = useQueryClient();
  const current = useOrganization(org);
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm<UserValues>({
    initialValues: {
      email: user?.email ?? '',
      aliases: user?.aliases ?? [],
      firstName: user?.firstName ?? '',
      lastName: user?.lastName ?? '',
      displayName: user?.displayName ?? '',
      role: user?.role ?? 'end_user',
      status: user?.status ?? 'active',
    },
    validate: {
      email: (v) => (user || v.trim() ? null : 'Type the user’s primary address.'),
    },
  });
  const save = useMutation({
    mutationFn: (v: UserValues) => {
      const body: Omit<NewUserBody, 'email'> = {
        aliases: v.aliases,
        firstName: v.firstName.trim() || null,
        lastName: v.lastName.trim() || null,
        displayName: v.displayName.trim() || null,
        role: v.role,
        status: v.status,
      };
      return user
        ? api<User>('PATCH', `${orgPath(org)}/users/${user.id}`, body)
        : api<User>('POST', `${orgPath(org)}/users`, { ...body, email: v.email.trim() });
    },
    onMutate: () => setFormError(null),
    onSuccess: (saved) => {
      toast({
        color: 'green',
        message: user ? `${saved.email} was saved.` : `User ${saved.email} added.`,
      });
      queryClient.setQueryData(keys.item(org, 'user', saved.id), saved);
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
        {user?.source === 'entra' && (
          <Alert color="yellow">
            This user is synced from Entra ID: the next sync sets its names, aliases and status back to
            Entra’s unless it is exempt from sync. The role stays as you set it.
          </Alert>
        )}
        {!user && (
          <TextInput
            label="Address"
            description={addressDomainsHint('The primary email address', current.data)}
            required
            data-autofocus
            {...form.getInputProps('email')}
          />
        )}
        <TagsInput
          label="Aliases"
          description="Other addresses of the same mailbox. Type one and press Enter."
          splitChars={[',', ' ']}
          clearable
          {...form.getInputProps('aliases')}
        />
        <Group grow align="flex-start">
          <TextInput label="First name" {...form.getInputProps('firstName')} />
          <TextInput label="Last name" {...form.getInputProps('lastName')} />
        </Group>
        <TextInput
          label="Display name"
          description="Shown instead of first and last name when set."
          {...form.getInputProps('displayName')}
        />
        <Radio.Group label="Role" {...form.getInputProps('role')}>
          <Stack gap="xs" mt="xs">
            {(Object.keys(ROLE_NAMES) as Role[]).map((r) => (
              <Radio key={r} value={r} label={ROLE_NAMES[r]} description={ROLE_HINTS[r]} />
            ))}
          </Stack>
        </Radio.Group>
        <Radio.Group label="Status" {...form.getInputProps('status')}>
          <Stack gap="xs" mt="xs">
            <Radio value="active" label="Active" description="Receives mail." />
            <Radio
              value="inactive"
              label="Inactive"
              description="The mailbox is kept, but mail to it is rejected."
            />
          </Stack>
        </Radio.Group>
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
            {user ? 'Save user' : 'Add user'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** Sets the password a user signs in to the console with (org admins and End Users). */
export function PasswordForm({ org, user }: { org: string; user: User }) {
  const form = useForm({
    initialValues: { password: '', confirm: '' },
    validate: {
      password: (v) => (v.length >= 12 ? null : 'The password needs at least 12 characters.'),
      confirm: (v, values) => (v === values.password ? null : 'The two passwords differ.'),
    },
  });
  const save = useMutation({
    mutationFn: (password: string) => api('PUT', `${orgPath(org)}/users/${user.id}/password`, { password }),
    onSuccess: () => {
      form.reset();
      toast({ color: 'green', message: `The console password of ${user.email} was set.` });
    },
    onError: (error) => {
      if (!showFieldError(form, ['password'], error)) form.setFieldError('password', error.message);
    },
  });
  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v.password))} noValidate aria-label="Console password">
      <Stack maw={420}>
        {user.role === 'silent_user' && (
          <Alert color="gray">
            A Silent User cannot sign in, whatever the password: change the role first.
          </Alert>
        )}
        <PasswordInput
          label="New console password"
          description="At least 12 characters. It replaces the current one."
          autoComplete="new-password"
          {...form.getInputProps('password')}
        />
        <PasswordInput
          label="Repeat the password"
          autoComplete="new-password"
          {...form.getInputProps('confirm')}
        />
        <Group>
          <Button type="submit" variant="default" loading={save.isPending}>
            Set password
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
