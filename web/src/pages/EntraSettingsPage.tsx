import {
  Accordion,
  Alert,
  Anchor,
  Button,
  Card,
  Checkbox,
  Code,
  Grid,
  Group,
  List,
  PasswordInput,
  Radio,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
  ThemeIcon,
  Timeline,
  Title,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { BLOCKED_MAILBOX_RULES, DEFAULT_BLOCKED_MAILBOX_RULE } from '../../../src/directory/recipients.js';
import { CLOUD_NAMES } from '../../../src/graph/clouds.js';
import { defaultPolicy } from '../../../src/sync/policy.js';
import { FREQUENCIES } from '../../../src/sync/schedule-words.js';
import { ApiError, api } from '../api/client';
import { keys } from '../api/keys';
import type {
  BlockedMailboxRule,
  Cloud,
  ConnectionTest,
  DefaultRole,
  EntraSettings,
  HowSwitches,
  WhatSwitches,
} from '../api/types';
import { ErrorAlert, Loading } from '../components/common';
import { showFieldErrors } from '../components/forms';
import { orgPath, useOrgRef } from '../components/hooks';
import { toast } from '../toast';

export const WHAT_LABELS: Record<keyof WhatSwitches, string> = {
  users: 'Active Users',
  distribution: 'Distribution Groups',
  security: 'Security Groups',
};

export const HOW_LABELS: Record<keyof HowSwitches, string> = {
  addUsers: 'Add Users',
  updateUsers: 'Update Users',
  addGroups: 'Add Groups',
  updateGroups: 'Update Groups',
  removeUsers: 'Remove Deleted Users',
  removeGroups: 'Remove Deleted Groups',
};

const HOW_HINTS: Record<keyof HowSwitches, string> = {
  addUsers: 'Create users that are new in Entra.',
  updateUsers: 'Names, aliases, disabled → inactive, and linking users you created by hand.',
  addGroups: 'Create groups that are new in Entra, with their members.',
  updateGroups: 'Names, addresses and membership.',
  removeUsers: 'Delete users that were deleted in Entra (only after a complete read).',
  removeGroups: 'Delete groups that were deleted in Entra (only after a complete read).',
};

/** The server's frequencies, then never; the form holds them as strings. */
const FREQUENCY_CHOICES = [
  ...FREQUENCIES.map((h) => ({ value: String(h), label: h === 1 ? 'Every hour' : `Every ${h} hours` })),
  { value: 'never', label: 'Never (manual syncs only)' },
];

const CLOUD_LABELS: Record<Cloud, string> = {
  global: 'Global (login.microsoftonline.com)',
  usgov: 'US Government GCC High (login.microsoftonline.us)',
  'usgov-dod': 'US Government DoD (login.microsoftonline.us, dod-graph)',
  china: 'China, operated by 21Vianet (login.partner.microsoftonline.cn)',
};
/** The server's clouds, in its order. */
const CLOUD_CHOICES = CLOUD_NAMES.map((value) => ({ value, label: CLOUD_LABELS[value] }));

const BLOCKED_MAILBOX_CHOICES: Record<BlockedMailboxRule, { label: string; description: string }> = {
  deliver: {
    label: 'Keep receiving mail',
    description:
      'The user stays active, as a shared mailbox would: a mailbox nobody signs in to is most often one.',
  },
  reject: {
    label: 'Reject mail (inactive)',
    description: 'The user becomes inactive, as a person who left would: mail to its addresses is refused.',
  },
};

/** A new organization's settings, as the server would answer them before anything is saved. */
const NEW_POLICY = defaultPolicy();

export const STEP_NAMES: Record<ConnectionTest['steps'][number]['step'], string> = {
  token: 'Sign in as the app (client ID and key)',
  tenant: 'Find the tenant (primary domain)',
  users: 'Read users',
  groups: 'Read groups',
  members: 'Read group members',
  mailboxes: 'Tell shared, room and equipment mailboxes apart (optional)',
  domains: "Read the tenant's domains to prove yours (optional)",
};

interface FormValues {
  tenant: string;
  clientId: string;
  clientSecret: string;
  secretExpiresAt: string;
  defaultRole: DefaultRole;
  blockedMailboxes: BlockedMailboxRule;
  includeGuests: boolean;
  what: WhatSwitches;
  how: HowSwitches;
  frequency: string;
  cloud: Cloud;
  authorityHost: string;
  graphUrl: string;
  caPem: string;
}

function toForm(s: EntraSettings): FormValues {
  return {
    tenant: s.tenant ?? '',
    clientId: s.clientId ?? '',
    clientSecret: '',
    secretExpiresAt: s.secret.expiresAt ?? '',
    defaultRole: s.defaultRole,
    blockedMailboxes: s.blockedMailboxes,
    includeGuests: s.includeGuests,
    what: { ...s.what },
    how: { ...s.how },
    frequency: s.frequencyHours === null ? 'never' : String(s.frequencyHours),
    cloud: s.cloud,
    authorityHost: s.authorityHost ?? '',
    graphUrl: s.graphUrl ?? '',
    caPem: s.caPem ?? '',
  };
}

/** The custom endpoints: only an operator may set them on a default server; their panel is folded. */
const CUSTOM_ENDPOINTS = ['authorityHost', 'graphUrl', 'caPem'] as const;

/** The form's fields that show a refusal; the API's `frequencyHours` is the form's `frequency`. */
const FIELDS = [
  'tenant',
  'clientId',
  'clientSecret',
  'secretExpiresAt',
  'defaultRole',
  'blockedMailboxes',
  'includeGuests',
  'what',
  'how',
  'frequency',
  'cloud',
  ...CUSTOM_ENDPOINTS,
] as const;
const RENAMED = { frequencyHours: 'frequency' };

/** Company Settings → Import Users → Azure Active Directory: the Entra connection of the organization. */
export function EntraSettingsPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const [saved, setSaved] = useState<string | null>(null);
  const [formErrors, setFormErrors] = useState<string[]>([]);
  /** The only refusal is a new key that could not be tried or that Entra refused: it may be saved anyway. */
  const [untestedOnly, setUntestedOnly] = useState(false);
  const [openPanel, setOpenPanel] = useState<string | null>(null);
  const settings = useQuery({
    queryKey: keys.entraSettings(org),
    queryFn: () => api<EntraSettings>('GET', `${orgPath(org)}/entra-settings`),
  });
  const form = useForm<FormValues>({
    initialValues: toForm({
      configured: false,
      tenant: null,
      clientId: null,
      secret: { set: false, last4: null, expiresAt: null },
      blockedMailboxes: NEW_POLICY.blockedMailboxes,
      includeGuests: NEW_POLICY.includeGuests,
      defaultRole: NEW_POLICY.defaultRole,
      what: { ...NEW_POLICY.what },
      how: { ...NEW_POLICY.how },
      frequencyHours: null,
      cloud: 'global',
      authorityHost: null,
      graphUrl: null,
      caPem: null,
      adminConsentUrl: null,
    }),
  });

  // biome-ignore lint/correctness/useExhaustiveDependencies: re-seed the form only when the server's copy changes
  useEffect(() => {
    if (settings.data) {
      form.setValues(toForm(settings.data));
      form.resetDirty();
    }
  }, [settings.data]);

  const save = useMutation({
    // Only what the admin changed is sent: a field left as shown keeps its saved value, so what the
    // page may not set (an operator's custom endpoints) is never resent as a change.
    mutationFn: ({ v, saveUntested }: { v: FormValues; saveUntested: boolean }) => {
      const body: Record<string, unknown> = {};
      if (form.isDirty('tenant')) body.tenant = v.tenant.trim();
      if (form.isDirty('clientId')) body.clientId = v.clientId.trim();
      if (v.clientSecret) body.clientSecret = v.clientSecret;
      if (form.isDirty('secretExpiresAt')) body.secretExpiresAt = v.secretExpiresAt || null;
      if (form.isDirty('defaultRole')) body.defaultRole = v.defaultRole;
      if (form.isDirty('blockedMailboxes')) body.blockedMailboxes = v.blockedMailboxes;
      if (form.isDirty('includeGuests')) body.includeGuests = v.includeGuests;
      if (form.isDirty('what')) body.what = v.what;
      if (form.isDirty('how')) body.how = v.how;
      if (form.isDirty('frequency'))
        body.frequencyHours = v.frequency === 'never' ? null : Number(v.frequency);
      if (form.isDirty('cloud')) body.cloud = v.cloud;
      for (const f of CUSTOM_ENDPOINTS) if (form.isDirty(f)) body[f] = v[f].trim() || null;
      if (saveUntested) body.saveUntested = true;
      return api<EntraSettings>('PUT', `${orgPath(org)}/entra-settings`, body);
    },
    onMutate: () => {
      setSaved(null);
      setFormErrors([]);
      setUntestedOnly(false);
      form.clearErrors();
    },
    onSuccess: (next, { saveUntested }) => {
      queryClient.setQueryData(keys.entraSettings(org), next);
      void queryClient.invalidateQueries({ queryKey: keys.overview(org) });
      const message = saveUntested
        ? 'The Azure Active Directory settings were saved; the new key was not tried.'
        : 'The Azure Active Directory settings were saved.';
      setSaved(
        saveUntested
          ? 'The settings were saved. The new key was not tried: Test connection tries it.'
          : 'The settings were saved.',
      );
      toast({ color: 'green', title: 'Saved', message });
    },
    onError: (error) => {
      setFormErrors(showFieldErrors(form, FIELDS, error, RENAMED));
      const listed =
        error instanceof ApiError
          ? (error.fields ?? (error.field ? [{ field: error.field, message: error.message }] : []))
          : [];
      // A refusal inside the folded panel opens it, so it is seen.
      if (listed.some((f) => (CUSTOM_ENDPOINTS as readonly string[]).includes(f.field)))
        setOpenPanel('custom');
      setUntestedOnly(listed.length > 0 && listed.every((f) => 'untested' in f && f.untested));
    },
  });

  const test = useMutation({
    mutationFn: () => api<ConnectionTest>('POST', `${orgPath(org)}/entra-settings/test`),
  });

  if (settings.isPending) return <Loading />;
  if (settings.error) return <ErrorAlert error={settings.error} />;
  const s = settings.data;
  const consentUrl = s.adminConsentUrl ?? test.data?.consentUrl ?? null;

  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Company Settings → Import Users
        </Text>
        <Title order={1}>Azure Active Directory</Title>
      </div>
      <Grid gap="xl">
        <Grid.Col span={{ base: 12, lg: 7 }}>
          <form
            onSubmit={form.onSubmit((v) => save.mutate({ v, saveUntested: false }))}
            noValidate
            aria-label="Azure AD settings"
          >
            <Stack>
              <Card withBorder component="fieldset" aria-label="Connection">
                <Stack>
                  <Title order={2} size="h4">
                    Connection
                  </Title>
                  <TextInput
                    label="Primary domain"
                    description="The tenant: a verified domain of it (e.g. contoso.onmicrosoft.com) or its Directory (tenant) ID."
                    required
                    {...form.getInputProps('tenant')}
                  />
                  <TextInput
                    label="Client ID"
                    description="The Application (client) ID on the app registration's Overview page."
                    required
                    {...form.getInputProps('clientId')}
                  />
                  <PasswordInput
                    label="Key (client secret)"
                    description={
                      s.secret.set
                        ? `Set, ends in …${s.secret.last4 ?? ''}. Leave empty to keep it; type a new key to replace it.`
                        : "Not set. Paste the secret's Value (not its Secret ID)."
                    }
                    autoComplete="new-password"
                    required={!s.secret.set}
                    {...form.getInputProps('clientSecret')}
                  />
                  <TextInput
                    type="date"
                    label="Key expiry date"
                    description="When the client secret expires (Entra shows it under Certificates & secrets); the overview warns as it nears."
                    {...form.getInputProps('secretExpiresAt')}
                  />
                  <Select
                    label="Cloud"
                    description="Where the tenant lives: the global cloud, unless it is a national cloud."
                    data={CLOUD_CHOICES}
                    allowDeselect={false}
                    {...form.getInputProps('cloud')}
                  />
                  <Accordion variant="contained" value={openPanel} onChange={setOpenPanel}>
                    <Accordion.Item value="custom">
                      <Accordion.Control>Custom endpoints (emulator, test servers)</Accordion.Control>
                      <Accordion.Panel>
                        <Stack>
                          <Text size="sm" c="dimmed">
                            Only when the server allows them (ENTRASYNC_ALLOW_CUSTOM_CLOUD=1); leave empty for
                            Microsoft's endpoints of the chosen cloud.
                          </Text>
                          <TextInput
                            label="Authority host"
                            placeholder="https://…"
                            {...form.getInputProps('authorityHost')}
                          />
                          <TextInput
                            label="Graph URL"
                            placeholder="https://…"
                            {...form.getInputProps('graphUrl')}
                          />
                          <Textarea
                            label="CA certificate (PEM)"
                            description="Trusted in addition to the system's CAs, for these endpoints only."
                            autosize
                            minRows={2}
                            maxRows={8}
                            {...form.getInputProps('caPem')}
                          />
                        </Stack>
                      </Accordion.Panel>
                    </Accordion.Item>
                  </Accordion>
                </Stack>
              </Card>

              <Card withBorder>
                <Radio.Group
                  label="Default role for new users"
                  description="Given to users that sync creates; sync never changes the role of an existing user."
                  {...form.getInputProps('defaultRole')}
                >
                  <Stack mt="xs" gap="xs">
                    <Radio
                      value="end_user"
                      label="End User"
                      description="May sign in to the console and receives quarantine digests."
                    />
                    <Radio
                      value="silent_user"
                      label="Silent User"
                      description="Protected, but cannot sign in and receives no quarantine digests."
                    />
                  </Stack>
                </Radio.Group>
              </Card>

              <Card withBorder>
                <BlockedMailboxesChoice {...form.getInputProps('blockedMailboxes')} />
              </Card>

              <Card withBorder>
                <Stack gap="xs">
                  <Text fw={500} id="what-label">
                    What to sync
                  </Text>
                  <Group role="group" aria-labelledby="what-label">
                    {(Object.keys(WHAT_LABELS) as Array<keyof WhatSwitches>).map((key) => (
                      <Checkbox
                        key={key}
                        label={WHAT_LABELS[key]}
                        {...form.getInputProps(`what.${key}`, { type: 'checkbox' })}
                      />
                    ))}
                  </Group>
                  {form.errors.what && (
                    <Text c="red" size="sm">
                      {form.errors.what}
                    </Text>
                  )}
                  <Checkbox
                    mt="xs"
                    label="Guest users too"
                    description="Users invited from other organizations (#EXT#). Off by default: their addresses are rarely in your domains, and each would be listed as skipped."
                    {...form.getInputProps('includeGuests', { type: 'checkbox' })}
                  />
                </Stack>
              </Card>

              <Card withBorder>
                <Stack gap="xs">
                  <Text fw={500} id="how-label">
                    How to sync
                  </Text>
                  <Stack gap="xs" role="group" aria-labelledby="how-label">
                    {(Object.keys(HOW_LABELS) as Array<keyof HowSwitches>).map((key) => (
                      <Checkbox
                        key={key}
                        label={HOW_LABELS[key]}
                        description={HOW_HINTS[key]}
                        {...form.getInputProps(`how.${key}`, { type: 'checkbox' })}
                      />
                    ))}
                  </Stack>
                  {form.errors.how && (
                    <Text c="red" size="sm">
                      {form.errors.how}
                    </Text>
                  )}
                </Stack>
              </Card>

              <Card withBorder>
                <Select
                  label="Sync frequency"
                  description="Automatic syncs apply every change without review; a manual sync lets you review first."
                  data={FREQUENCY_CHOICES}
                  allowDeselect={false}
                  {...form.getInputProps('frequency')}
                />
              </Card>

              {(formErrors.length > 0 || untestedOnly) && (
                <Alert color="red" role="alert" title="Not saved">
                  {formErrors.length > 0
                    ? formErrors.join(' ')
                    : 'The new key was not saved: see the message under Key. Save anyway keeps it without trying it.'}
                </Alert>
              )}
              {Object.keys(form.errors).length > 0 && formErrors.length === 0 && !untestedOnly && (
                <Alert color="red" role="alert" title="Not saved">
                  Some fields need attention: each says why under it.
                </Alert>
              )}
              {saved && !form.isDirty() && (
                <Alert color="green" role="status" title="Saved">
                  {saved}
                </Alert>
              )}
              <Group>
                <Button type="submit" loading={save.isPending}>
                  Save
                </Button>
                {untestedOnly && (
                  <Button
                    color="orange"
                    variant="light"
                    loading={save.isPending}
                    onClick={() => save.mutate({ v: form.getValues(), saveUntested: true })}
                  >
                    Save anyway
                  </Button>
                )}
                <Button
                  variant="default"
                  loading={test.isPending}
                  disabled={!s.configured}
                  onClick={() => test.mutate()}
                >
                  Test connection
                </Button>
                {form.isDirty() && s.configured && (
                  <Text size="sm" c="dimmed">
                    Test connection checks the saved settings: save your changes first.
                  </Text>
                )}
              </Group>
            </Stack>
          </form>
          {test.error && <ErrorAlert error={test.error} title="The test could not run" />}
          {test.data && <TestResult result={test.data} />}
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 5 }}>
          <Guide consentUrl={consentUrl} />
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

/** What a mailbox with sign-in blocked becomes when Exchange cannot say what it is for. */
function BlockedMailboxesChoice(props: {
  value?: BlockedMailboxRule;
  onChange?: (value: string) => void;
  error?: React.ReactNode;
}) {
  return (
    <Radio.Group
      label="Mailboxes with sign-in blocked"
      description={
        <>
          Applies only when Exchange cannot tell us a mailbox's purpose: shared, room and equipment mailboxes
          always keep receiving mail, and a person's mailbox becomes inactive. Grant the app{' '}
          <Code>MailboxSettings.Read</Code> so Exchange can tell them apart.
        </>
      }
      {...props}
    >
      <Stack mt="xs" gap="xs">
        {BLOCKED_MAILBOX_RULES.map((rule) => (
          <Radio
            key={rule}
            value={rule}
            label={`${BLOCKED_MAILBOX_CHOICES[rule].label}${rule === DEFAULT_BLOCKED_MAILBOX_RULE ? ' (default)' : ''}`}
            description={BLOCKED_MAILBOX_CHOICES[rule].description}
          />
        ))}
      </Stack>
    </Radio.Group>
  );
}

/** The diagnostic steps of a connection test, each in plain words with what to do about a failure. */
function TestResult({ result }: { result: ConnectionTest }) {
  const failed = result.steps.findIndex((s) => !s.ok);
  // Consent fixes missing permissions and an app without a service principal, nothing else.
  const needsConsent = result.steps.some(
    (s) => s.code === 'permission_denied' || s.code === 'no_service_principal' || (s.ok && s.hint),
  );
  return (
    <Card withBorder mt="md" component="section" aria-labelledby="test-result" data-testid="test-result">
      <Title order={2} size="h4" id="test-result" mb="sm">
        {result.ok ? 'The connection works' : 'The connection does not work yet'}
      </Title>
      <Timeline active={failed === -1 ? result.steps.length : failed - 1} bulletSize={22}>
        {result.steps.map((step) => (
          <Timeline.Item
            key={step.step}
            bullet={
              <ThemeIcon size={22} radius="xl" color={step.ok ? 'green' : step.skipped ? 'gray' : 'red'}>
                <span aria-hidden>{step.ok ? '✓' : step.skipped ? '–' : '✗'}</span>
              </ThemeIcon>
            }
            title={`${STEP_NAMES[step.step]}: ${step.ok ? 'passed' : step.skipped ? 'not run' : 'failed'}`}
          >
            {step.hint && (
              <Text size="sm" c={step.ok ? undefined : 'red.8'}>
                {step.hint}
              </Text>
            )}
            {step.message && !step.skipped && (
              <Text size="xs" c="dimmed">
                {step.message}
              </Text>
            )}
          </Timeline.Item>
        ))}
      </Timeline>
      {needsConsent && result.consentUrl && (
        <Text size="sm" mt="sm">
          An Entra administrator grants the missing permissions here:{' '}
          <Anchor href={result.consentUrl} target="_blank" rel="noreferrer">
            admin consent
          </Anchor>
          .
        </Text>
      )}
    </Card>
  );
}

/** How to make the app registration in the Entra admin center, today. */
function Guide({ consentUrl }: { consentUrl: string | null }) {
  return (
    <Card withBorder component="aside" aria-labelledby="guide-title">
      <Title order={2} size="h4" id="guide-title" mb="sm">
        Setting up the app registration
      </Title>
      <List type="ordered" spacing="xs" size="sm">
        <List.Item>
          In the Microsoft Entra admin center, open{' '}
          <b>Identity → Applications → App registrations → New registration</b>. Name it (e.g. "entrasync"),
          single tenant, no redirect URI.
        </List.Item>
        <List.Item>
          Copy the <b>Application (client) ID</b> into <i>Client ID</i>, and the tenant's primary domain (or
          the <b>Directory (tenant) ID</b>) into <i>Primary domain</i>.
        </List.Item>
        <List.Item>
          Under <b>Certificates &amp; secrets → New client secret</b>, create a secret; paste its <b>Value</b>{' '}
          (shown once, not the Secret ID) into <i>Key</i>, and its expiry date into <i>Key expiry date</i>.
        </List.Item>
        <List.Item>
          Under <b>API permissions → Add a permission → Microsoft Graph → Application permissions</b>, add{' '}
          <Code>User.Read.All</Code> and <Code>GroupMember.Read.All</Code> (or <Code>Directory.Read.All</Code>
          ), and preferably <Code>MailboxSettings.Read</Code>, so shared, room and equipment mailboxes with
          sign-in blocked are told apart from people's, and <Code>Domain.Read.All</Code>, so a domain verified
          in this tenant is proven here too. The old Azure AD Graph is retired: use Microsoft Graph.
        </List.Item>
        <List.Item>
          An administrator grants admin consent:{' '}
          {consentUrl ? (
            <Anchor href={consentUrl} target="_blank" rel="noreferrer">
              open the admin-consent link for this tenant and client ID
            </Anchor>
          ) : (
            <Text span c="dimmed">
              the link appears here once the primary domain and client ID are saved
            </Text>
          )}
          , or use <b>Grant admin consent</b> on the API permissions page.
        </List.Item>
        <List.Item>Save, then Test connection: every step should pass.</List.Item>
      </List>
    </Card>
  );
}
