import {
  Alert,
  Badge,
  Button,
  Card,
  Checkbox,
  Code,
  Group,
  NumberInput,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { SAFEGUARD_LIMITS } from '../../../src/contract/limits.js';
import { api } from '../api/client';
import { keys } from '../api/keys';
import type { Automation, AutomationBody } from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { showFieldErrors } from '../components/forms';
import { orgPath, useOrgRef } from '../components/hooks';
import { toast } from '../toast';

interface AutomationValues {
  safeguardPercent: number | string;
  safeguardMinUsers: number | string;
  webhookUrl: string;
  webhookSecret: string;
  removeSecret: boolean;
}

const FIELDS = ['safeguardPercent', 'safeguardMinUsers', 'webhookUrl', 'webhookSecret'] as const;

/** Company Settings → Automatic sync: the deletion safeguard and the notification webhook. */
export function AutomationPage() {
  const org = useOrgRef();
  const automation = useQuery({
    queryKey: keys.automation(org),
    queryFn: () => api<Automation>('GET', `${orgPath(org)}/automation`),
  });
  if (automation.isPending) return <Loading />;
  if (automation.error) return <ErrorAlert error={automation.error} />;
  return <AutomationForm org={org} saved={automation.data} />;
}

function AutomationForm({ org, saved }: { org: string; saved: Automation }) {
  const queryClient = useQueryClient();
  const [formErrors, setFormErrors] = useState<string[]>([]);
  const form = useForm<AutomationValues>({
    initialValues: {
      safeguardPercent: saved.safeguard.percent,
      safeguardMinUsers: saved.safeguard.minUsers,
      webhookUrl: saved.webhook.url ?? '',
      webhookSecret: '',
      removeSecret: false,
    },
  });
  const save = useMutation({
    mutationFn: (v: AutomationValues) => {
      // Only what the admin changed is sent: a URL left as shown is no change, even one this
      // server would refuse today.
      const body: AutomationBody = {};
      if (form.isDirty('safeguardPercent')) body.safeguardPercent = Number(v.safeguardPercent);
      if (form.isDirty('safeguardMinUsers')) body.safeguardMinUsers = Number(v.safeguardMinUsers);
      if (form.isDirty('webhookUrl')) body.webhookUrl = v.webhookUrl.trim() || null;
      // The secret is write-only: an empty field keeps the saved one.
      if (v.removeSecret) body.webhookSecret = null;
      else if (v.webhookSecret) body.webhookSecret = v.webhookSecret;
      return api<Automation>('PUT', `${orgPath(org)}/automation`, body);
    },
    onMutate: () => {
      setFormErrors([]);
      form.clearErrors();
    },
    onSuccess: (next) => {
      queryClient.setQueryData(keys.automation(org), next);
      form.setValues({
        safeguardPercent: next.safeguard.percent,
        safeguardMinUsers: next.safeguard.minUsers,
        webhookUrl: next.webhook.url ?? '',
        webhookSecret: '',
        removeSecret: false,
      });
      form.resetDirty();
      toast({ color: 'green', message: 'The automatic-sync settings were saved.' });
    },
    onError: (error) => {
      setFormErrors(showFieldErrors(form, FIELDS, error));
    },
  });
  const { percent, minUsers } = saved.safeguard;

  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate aria-label="Automatic sync settings">
      <Stack maw={760}>
        <div>
          <Text size="sm" c="dimmed">
            Company Settings
          </Text>
          <Title order={1}>Automatic sync</Title>
        </div>
        <Text>
          Automatic syncs (their frequency is set under Import Users → Azure Active Directory) apply every
          change without review. These settings stop one that would remove too many users, and say where to
          send word when a sync fails or is held.
        </Text>
        <Card withBorder component="fieldset" aria-label="Deletion safeguard">
          <Stack>
            <Title order={2} size="h4">
              Deletion safeguard
            </Title>
            <Text size="sm">
              Now: an automatic sync that would remove or deactivate more than {percent} % of the synced
              users, and at least {minUsers} of them, is held until an administrator approves or dismisses it.
              Manual syncs are never held: you see their changes before you execute them.
            </Text>
            <Group grow align="flex-start">
              <NumberInput
                label="Share of synced users"
                description={`Hold when more than this share would be removed or deactivated (${SAFEGUARD_LIMITS.percent.min}–${SAFEGUARD_LIMITS.percent.max}).`}
                suffix=" %"
                min={SAFEGUARD_LIMITS.percent.min}
                max={SAFEGUARD_LIMITS.percent.max}
                allowDecimal={false}
                {...form.getInputProps('safeguardPercent')}
              />
              <NumberInput
                label="At least this many users"
                description="Smaller removals are never held."
                min={SAFEGUARD_LIMITS.minUsers.min}
                max={SAFEGUARD_LIMITS.minUsers.max}
                allowDecimal={false}
                {...form.getInputProps('safeguardMinUsers')}
              />
            </Group>
          </Stack>
        </Card>
        <Card withBorder component="fieldset" aria-label="Notification webhook">
          <Stack>
            <Group justify="space-between">
              <Title order={2} size="h4">
                Notification webhook
              </Title>
              {saved.webhook.url ? (
                saved.webhook.undeliverable ? (
                  <Badge color="orange">Not delivered</Badge>
                ) : (
                  <Badge color="green">On</Badge>
                )
              ) : (
                <Badge color="gray">Off</Badge>
              )}
            </Group>
            {saved.webhook.undeliverable && (
              <Alert color="orange" title="This webhook receives nothing">
                {saved.webhook.undeliverable} Enter an https:// address on the public internet, or clear the
                field.
              </Alert>
            )}
            <Text size="sm">
              Failed and held syncs and an expiring key are always listed under Notifications in the console.
              With a URL, each is also posted there as JSON.
            </Text>
            <TextInput
              label="Webhook URL"
              description="An https:// address; leave empty to post nowhere."
              placeholder="https://hooks.example.com/entrasync"
              {...form.getInputProps('webhookUrl')}
            />
            <PasswordInput
              label="Signing secret"
              description={
                <>
                  {saved.webhook.secretSet
                    ? 'Set. Type a new one to replace it, or leave empty to keep it. '
                    : 'Not set. At least 16 characters. '}
                  Each post then carries <Code>x-entrasync-signature</Code>: an HMAC-SHA256 of the timestamp
                  and the body.
                </>
              }
              autoComplete="new-password"
              disabled={form.values.removeSecret}
              {...form.getInputProps('webhookSecret')}
            />
            {saved.webhook.secretSet && (
              <Checkbox
                label="Remove the signing secret (posts are sent unsigned)"
                {...form.getInputProps('removeSecret', { type: 'checkbox' })}
              />
            )}
          </Stack>
        </Card>
        {(formErrors.length > 0 || Object.keys(form.errors).length > 0) && (
          <Alert color="red" role="alert" title="Not saved">
            {formErrors.length > 0
              ? formErrors.join(' ')
              : 'Some fields need attention: each says why under it.'}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={save.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
