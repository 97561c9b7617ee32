import {
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
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
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { ApiError, api } from '../api/client';
import { keys } from '../api/keys';
import type { DomainEntry, DomainProof, Organization } from '../api/types';
import { ErrorAlert, Loading, when } from '../components/common';
import { refreshDomains } from '../components/domains';
import { orgPath, useOrgRef } from '../components/hooks';
import { useSession } from '../session';
import { toast } from '../toast';

/** How a verified domain came to count, after "Verified". */
const PROVEN_BY: Record<DomainProof, string> = {
  operator: 'added by an operator',
  dns: 'by DNS record',
  entra: 'by your Entra tenant',
  before_proof: 'in use before domains had to be proven',
};

/** A day in the reader's locale, e.g. "1 Dec 2026". */
function day(iso: string): string {
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
}

function domainPath(org: string, domain: string): string {
  return `${orgPath(org)}/domains/${encodeURIComponent(domain)}`;
}

/**
 * The organization's mail domains. Only verified ones accept addresses (by hand or by sync); a
 * domain an organization admin adds is pending until proven by a DNS TXT record or by the
 * connected Entra tenant, and its panel says how. An operator's domain counts at once.
 */
export function DomainsPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const isOperator = useSession().session?.principal.type === 'operator';
  const [removing, setRemoving] = useState<DomainEntry | null>(null);
  // A Verify refusal for a domain that is gone from the list (another organization proved it first):
  // its panel is gone with it, so the page keeps the server's sentence.
  const [lost, setLost] = useState<{ domain: string; message: string } | null>(null);
  const domains = useQuery({
    queryKey: keys.domains(org),
    queryFn: () => api<DomainEntry[]>('GET', `${orgPath(org)}/domains`),
  });
  const form = useForm({
    initialValues: { domain: '' },
    validate: { domain: (v) => (v.trim() ? null : 'Type the domain, e.g. contoso.com.') },
  });
  const add = useMutation({
    mutationFn: (domain: string) => api<Organization>('POST', `${orgPath(org)}/domains`, { domain }),
    onSuccess: (updated, domain) => {
      refreshDomains(queryClient, org, updated);
      form.reset();
      const pending = updated.pendingDomains.includes(domain.toLowerCase());
      toast({
        color: 'green',
        message: pending
          ? `Domain ${domain} added. It accepts no address until you prove it: see its panel below.`
          : `Domain ${domain} added: it counts at once.`,
      });
    },
    onError: (error) => form.setFieldError('domain', error.message),
  });
  const remove = useMutation({
    mutationFn: (domain: string) => api<Organization>('DELETE', domainPath(org, domain)),
    onSuccess: (updated, domain) => {
      refreshDomains(queryClient, org, updated);
      setRemoving(null);
      setLost(null);
      toast({ color: 'green', message: `Domain ${domain} removed.` });
    },
  });

  if (domains.isPending) return <Loading />;
  if (domains.error) return <ErrorAlert error={domains.error} />;
  const pending = domains.data.filter((d) => d.status === 'pending');
  const lostMessage = lost && !pending.some((d) => d.domain === lost.domain) ? lost.message : null;
  return (
    <Stack>
      <Title order={1}>Domains</Title>
      <Text c="dimmed" maw={760}>
        Only verified domains accept addresses: a user, group or alias in a pending domain, or in any other,
        is refused by hand and left out of sync with a warning.
      </Text>
      {lostMessage && (
        <Alert
          color="orange"
          role="alert"
          maw={760}
          withCloseButton
          onClose={() => setLost(null)}
          title="Not verified"
        >
          {lostMessage}
        </Alert>
      )}
      <Table withTableBorder maw={760} aria-label="Domains">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Domain</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th w={110}>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {domains.data.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={3}>
                <Text c="dimmed">No domains yet: add the first below.</Text>
              </Table.Td>
            </Table.Tr>
          )}
          {domains.data.map((d) => (
            <Table.Tr key={d.domain}>
              <Table.Td>{d.domain}</Table.Td>
              <Table.Td>
                <DomainStatus entry={d} />
              </Table.Td>
              <Table.Td>
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  aria-label={`Remove ${d.domain}`}
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
      {pending.map((d) => (
        <PendingDomain key={d.domain} org={org} entry={d} onLost={setLost} />
      ))}
      <Card withBorder maw={760} component="section" aria-labelledby="add-domain">
        <form onSubmit={form.onSubmit((v) => add.mutate(v.domain.trim()))} noValidate>
          <Stack>
            <Title order={2} size="h4" id="add-domain">
              Add a domain
            </Title>
            <Group align="flex-start">
              <TextInput
                label="Domain"
                placeholder="contoso.com"
                description={
                  isOperator
                    ? 'Added by an operator, it counts at once: addresses in it are accepted right away.'
                    : 'It stays pending until you prove it — by a DNS record or through your Entra tenant — and accepts no address until then.'
                }
                // Below the field, so the button stays level with it however the sentence wraps.
                inputWrapperOrder={['label', 'input', 'error', 'description']}
                w={420}
                {...form.getInputProps('domain')}
              />
              <Button type="submit" mt={25} loading={add.isPending}>
                Add domain
              </Button>
            </Group>
          </Stack>
        </form>
      </Card>
      <Modal
        opened={removing !== null}
        onClose={() => setRemoving(null)}
        title={`Remove ${removing?.domain}?`}
      >
        <Stack>
          <Text>
            {removing?.status === 'pending'
              ? `${removing.domain} is pending and accepts no address yet, so no user or group is affected. Added again, it has to be proven again.`
              : `Users and groups keep their addresses, but the next sync will treat addresses in ${removing?.domain} as foreign and skip them.`}
          </Text>
          {remove.error && <ErrorAlert error={remove.error} title="Not removed" />}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)}>
              Cancel
            </Button>
            <Button
              color="red"
              loading={remove.isPending}
              onClick={() => removing && remove.mutate(removing.domain)}
            >
              Remove domain
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

/** Verified (with how and when) or Pending, in words: the badge's colour only repeats them. */
function DomainStatus({ entry }: { entry: DomainEntry }) {
  if (entry.status === 'verified') {
    const how = entry.provenBy ? PROVEN_BY[entry.provenBy] : null;
    const date = entry.provenAt && entry.provenBy !== 'before_proof' ? day(entry.provenAt) : null;
    return (
      <Group gap="xs" wrap="nowrap">
        <Badge color="green" variant="light" miw="max-content">
          Verified
        </Badge>
        <Text size="sm">{[how, date].filter(Boolean).join(', ')}</Text>
      </Group>
    );
  }
  return (
    <Group gap="xs" wrap="nowrap">
      <Badge color="yellow" variant="light" miw="max-content">
        Pending
      </Badge>
      <Text size="sm">accepts no address until proven</Text>
    </Group>
  );
}

/** A pending domain: the TXT record to publish, the Entra way, Verify, and what the last check found. */
function PendingDomain({
  org,
  entry,
  onLost,
}: {
  org: string;
  entry: DomainEntry;
  onLost: (lost: { domain: string; message: string }) => void;
}) {
  const queryClient = useQueryClient();
  const titleId = useId();
  const { domain, txtRecord, lastCheck } = entry;
  const verify = useMutation({
    mutationFn: () => api<DomainEntry>('POST', `${domainPath(org, domain)}/verify`),
    onSuccess: (proven) => {
      queryClient.setQueryData<DomainEntry[]>(keys.domains(org), (list) =>
        list?.map((d) => (d.domain === proven.domain ? proven : d)),
      );
      refreshDomains(queryClient, org);
      const how = proven.provenBy ? ` ${PROVEN_BY[proven.provenBy]}` : '';
      toast({
        color: 'green',
        message: `${proven.domain} is verified${how}: it accepts addresses now.`,
      });
    },
    onError: (error) => {
      // Gone (proven by another organization): the list drops it, and this panel with it.
      if (error instanceof ApiError && (error.status === 409 || error.status === 404))
        onLost({ domain, message: error.message });
      // The check is recorded either way: the list shows it as the last check.
      void queryClient.invalidateQueries({ queryKey: keys.domains(org) });
    },
  });
  const refusal = verify.error;

  return (
    <Card withBorder maw={760} component="section" aria-labelledby={titleId}>
      <Stack gap="sm">
        <Title order={2} size="h4" id={titleId}>
          Prove {domain}
        </Title>
        <Text size="sm">
          {domain} is pending: it accepts no address, and sync skips addresses in it, until it is proven. To
          prove it, publish this TXT record in the DNS of {domain}, then press Verify. DNS changes can take a
          while to be seen.
        </Text>
        {txtRecord && (
          <Table withTableBorder aria-label={`TXT record for ${domain}`} layout="fixed">
            <Table.Tbody>
              <RecordField
                label="Name / Host"
                value={txtRecord.name}
                note="the domain itself (some DNS providers write it as @)"
                copyLabel={`Copy the name of the TXT record for ${domain}`}
              />
              <RecordField
                label="Type"
                value={txtRecord.type}
                copyLabel={`Copy the type of the TXT record for ${domain}`}
              />
              <RecordField
                label="Value"
                value={txtRecord.value}
                copyLabel={`Copy the value of the TXT record for ${domain}`}
              />
            </Table.Tbody>
          </Table>
        )}
        <Text size="sm">
          If {domain} is a verified domain of your connected Entra tenant, Verify proves it right away,
          without a record — provided the app registration has the Microsoft Graph permission Domain.Read.All.
        </Text>
        <Group>
          <Button aria-label={`Verify ${domain}`} loading={verify.isPending} onClick={() => verify.mutate()}>
            Verify
          </Button>
          {lastCheck && !refusal && (
            <Text size="sm" c="dimmed">
              Last checked {when(lastCheck.at)}: {lastCheck.outcome}
            </Text>
          )}
        </Group>
        {refusal && (
          <Alert color="orange" role="alert" title={refusalTitle(refusal, domain)}>
            {refusal.message}
          </Alert>
        )}
      </Stack>
    </Card>
  );
}

function refusalTitle(error: Error, domain: string): string {
  if (error instanceof ApiError && error.code === 'not_proven') return 'No proof found';
  if (error instanceof ApiError && error.status === 409) return `${domain} is not available`;
  return `${domain} was not verified`;
}

/** One line of the TXT record, with a button copying exactly its value. */
function RecordField({
  label,
  value,
  note,
  copyLabel,
}: {
  label: string;
  value: string;
  note?: string;
  copyLabel: string;
}) {
  return (
    <Table.Tr>
      <Table.Th w={130} scope="row">
        {label}
      </Table.Th>
      <Table.Td>
        <Code style={{ wordBreak: 'break-all' }}>{value}</Code>
        {note && (
          <Text size="xs" c="dimmed">
            {note}
          </Text>
        )}
      </Table.Td>
      <Table.Td w={100}>
        <CopyButton value={value}>
          {({ copied, copy }) => (
            <Button
              size="xs"
              variant="default"
              aria-label={copied ? copyLabel.replace(/^Copy/, 'Copied') : copyLabel}
              onClick={copy}
            >
              {copied ? 'Copied' : 'Copy'}
            </Button>
          )}
        </CopyButton>
      </Table.Td>
    </Table.Tr>
  );
}
