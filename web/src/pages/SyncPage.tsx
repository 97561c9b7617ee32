import {
  Alert,
  Anchor,
  Button,
  Card,
  Checkbox,
  Group,
  List,
  Modal,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { howWords, whatWords } from '../../../src/sync/policy.js';
import { api } from '../api/client';
import { afterSync, keys } from '../api/keys';
import { type LoadedPlan, loadPlan } from '../api/plans';
import { cancelSearch, getSearch, listSearches, type SearchView, startSearch } from '../api/searches';
import {
  CATEGORIES,
  type EntraSettings,
  type ExecuteBody,
  type ExecuteResult,
  type HowSwitches,
  type Preview,
  type WhatSwitches,
} from '../api/types';
import { applySentence, CATEGORY_LABELS, PreviewResults } from '../components/changes';
import { ErrorAlert, Loading, RunErrors, when } from '../components/common';
import { PreviewCsvLink } from '../components/csv-link';
import { orgPath, useOrgRef } from '../components/hooks';
import { useKeptUnticks } from '../components/kept-unticks';
import { PreviewRecipients } from '../components/PreviewRecipients';
import { SearchAnnouncer, SearchProgress } from '../components/SearchProgress';
import { seatsText } from '../components/seats';
import { HOW_LABELS, WHAT_LABELS } from './EntraSettingsPage';

/** How often a running search is read back: often enough to look live, rarely enough for a busy server. */
const SEARCH_POLL_MS = 750;

/** Company Settings → Users & Groups → Azure Active Directory Sync: preview, untick, execute. */
export function SyncPage() {
  const org = useOrgRef();
  const queryClient = useQueryClient();
  const settings = useQuery({
    queryKey: keys.entraSettings(org),
    queryFn: () => api<EntraSettings>('GET', `${orgPath(org)}/entra-settings`),
  });
  const [what, setWhat] = useState<WhatSwitches | null>(null);
  const [how, setHow] = useState<HowSwitches | null>(null);
  const [confirming, setConfirming] = useState(false);
  // The preview on screen is the one the URL names (?plan=…), read back from the server while
  // it lasts: a reload, or a return from another page, shows the same preview. A search that
  // is still running is named the same way (?search=…) and is followed until it ends.
  const [params, setParams] = useSearchParams();
  const planId = params.get('plan');
  const searchId = params.get('search');
  const remembered = `entrasync.preview.${org}`;
  // A return to the page without either: the organization's running search if there is one
  // (started before a reload, in another tab, or by another admin), else the last preview.
  const latest = useQuery({
    queryKey: keys.latestSearch(org),
    queryFn: () => listSearches(orgPath(org), 1),
    enabled: !planId && !searchId,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
  useEffect(() => {
    if (planId || searchId || latest.isPending) return;
    const running = latest.data?.find((s) => s.state === 'running');
    const last = sessionStorage.getItem(remembered);
    if (running) setParams({ search: running.id }, { replace: true });
    else if (last) setParams({ plan: last }, { replace: true });
  }, [planId, searchId, latest.isPending, latest.data, remembered, setParams]);
  const stored = useQuery({
    queryKey: keys.plan(org, planId),
    queryFn: () => loadPlan(orgPath(org), planId!),
    enabled: planId !== null,
    staleTime: Number.POSITIVE_INFINITY,
    retry: false,
  });
  useEffect(() => {
    if (stored.error) sessionStorage.removeItem(remembered);
  }, [stored.error, remembered]);
  // Unticks are kept per preview: a reload or a return shows them still unticked; another
  // preview starts with what was kept for it (usually nothing).
  const { excluded, setExcluded, forget: forgetUnticks } = useKeptUnticks(planId);

  // This run's switches start as the saved ones; changing them here does not change the settings.
  useEffect(() => {
    if (settings.data) {
      setWhat((w) => w ?? { ...settings.data.what });
      setHow((h) => h ?? { ...settings.data.how });
    }
  }, [settings.data]);

  // After Search, focus goes to the results' heading (the button that had it may be disabled or gone).
  const focusResults = useRef(false);
  const shownPlanId = stored.data?.plan.planId;
  useEffect(() => {
    if (!shownPlanId || !focusResults.current) return;
    focusResults.current = false;
    document.getElementById('results-title')?.focus();
  }, [shownPlanId]);
  // Search runs as a job on the server: start it, then read it back until it ends.
  const preview = useMutation({
    // The switches as the API's words (the server's own mapping), like `--what` and `--how`.
    mutationFn: () =>
      startSearch(orgPath(org), { what: what ? whatWords(what) : [], how: how ? howWords(how) : [] }),
    onMutate: () => execute.reset(),
    onSuccess: (started) => {
      queryClient.setQueryData(keys.search(org, started.id), started);
      setParams({ search: started.id });
    },
  });
  const search = useQuery({
    queryKey: keys.search(org, searchId),
    queryFn: () => getSearch(orgPath(org), searchId!),
    enabled: searchId !== null,
    retry: false,
    refetchInterval: (q) => (q.state.data?.state === 'running' ? SEARCH_POLL_MS : false),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => cancelSearch(orgPath(org), id),
    onSuccess: (view) => queryClient.setQueryData(keys.search(org, view.id), view),
    // Refused because it finished meanwhile: reading it again shows how it ended.
    onError: () => void queryClient.invalidateQueries({ queryKey: keys.search(org, searchId) }),
  });
  // The live region keeps saying how the followed search ended after the URL moved on to its preview.
  const lastSearch = useRef<SearchView | undefined>(undefined);
  if (search.data) lastSearch.current = search.data;
  // A search that made its preview: the URL names the preview from now on (a reload shows it).
  const donePlanId = search.data?.state === 'done' ? search.data.planId : null;
  useEffect(() => {
    if (!donePlanId) return;
    sessionStorage.setItem(remembered, donePlanId);
    focusResults.current = true;
    cancel.reset();
    setParams({ plan: donePlanId }, { replace: true });
  }, [donePlanId, remembered, setParams, cancel.reset]);
  const execute = useMutation({
    mutationFn: (plan: Preview) =>
      api<ExecuteResult>('POST', `${orgPath(org)}/sync/execute`, {
        planId: plan.planId,
        excludedChangeIds: [...excluded],
      } satisfies ExecuteBody),
    onSuccess: () => {
      setConfirming(false);
      // Executed: a reload shows the empty page, not the spent preview.
      sessionStorage.removeItem(remembered);
      forgetUnticks();
      setParams({}, { replace: true });
      afterSync(queryClient, org);
    },
  });

  if (settings.isPending) return <Loading />;
  if (settings.error) return <ErrorAlert error={settings.error} />;
  const plan = execute.data || searchId ? null : (stored.data?.plan ?? null);
  const searching = preview.isPending || search.data?.state === 'running';
  const state = stored.data?.state ?? 'preview';
  const total = plan ? CATEGORIES.reduce((n, c) => n + plan[c].length, 0) : 0;
  const ticked = total - excluded.size;

  return (
    <Stack>
      <div>
        <Text size="sm" c="dimmed">
          Company Settings → Users &amp; Groups
        </Text>
        <Title order={1}>Azure Active Directory Sync</Title>
      </div>
      <Alert color="yellow" title="Automatic syncs apply everything">
        {settings.data.frequencyHours
          ? `This organization also syncs automatically every ${settings.data.frequencyHours} hour${settings.data.frequencyHours === 1 ? '' : 's'}. `
          : ''}
        Automatic syncs apply every change without review. Unticking a change here skips it for this run only;
        to keep a user or group out of every sync, mark it exempt from sync.
      </Alert>
      {!settings.data.configured && (
        <Alert color="blue">
          The connection to Azure Active Directory is not set up yet:{' '}
          <Anchor component={Link} to={`/orgs/${org}/settings/import-users/azure-ad`}>
            set it up under Import Users
          </Anchor>
          .
        </Alert>
      )}
      {what && how && (
        <Card withBorder component="section" aria-labelledby="run-options">
          <Title order={2} size="h4" id="run-options" mb="xs">
            This run
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <Checkbox.Group
              label="What to sync"
              value={Object.entries(what)
                .filter(([, on]) => on)
                .map(([k]) => k)}
              onChange={(checked) =>
                setWhat({
                  users: checked.includes('users'),
                  distribution: checked.includes('distribution'),
                  security: checked.includes('security'),
                })
              }
            >
              <Stack gap={6} mt="xs">
                {(Object.keys(WHAT_LABELS) as Array<keyof WhatSwitches>).map((k) => (
                  <Checkbox key={k} value={k} label={WHAT_LABELS[k]} />
                ))}
              </Stack>
            </Checkbox.Group>
            <Checkbox.Group
              label="How to sync"
              value={Object.entries(how)
                .filter(([, on]) => on)
                .map(([k]) => k)}
              onChange={(checked) =>
                setHow(
                  Object.fromEntries(
                    (Object.keys(HOW_LABELS) as Array<keyof HowSwitches>).map((k) => [
                      k,
                      checked.includes(k),
                    ]),
                  ) as unknown as HowSwitches,
                )
              }
            >
              <Stack gap={6} mt="xs">
                {(Object.keys(HOW_LABELS) as Array<keyof HowSwitches>).map((k) => (
                  <Checkbox key={k} value={k} label={HOW_LABELS[k]} />
                ))}
              </Stack>
            </Checkbox.Group>
          </SimpleGrid>
          <Group mt="md">
            <Button onClick={() => preview.mutate()} loading={searching} disabled={!settings.data.configured}>
              Search
            </Button>
            <Text size="sm" c="dimmed">
              Reads the tenant and shows what a sync would change; nothing is written until you Execute.
            </Text>
          </Group>
        </Card>
      )}
      <SearchAnnouncer search={searchId ? search.data : planId ? lastSearch.current : undefined} />
      {preview.error && <ErrorAlert error={preview.error} title="The search failed" />}
      {searchId && search.isPending && <Loading label="Reading the search" />}
      {searchId && search.error && <ErrorAlert error={search.error} title="This search cannot be shown" />}
      {searchId && search.data && (
        <SearchProgress
          search={search.data}
          onCancel={() => cancel.mutate(search.data.id)}
          cancelling={cancel.isPending}
          cancelError={cancel.error}
        />
      )}
      {!searchId && planId && stored.isPending && <Loading />}
      {stored.error && !searchId && !preview.isPending && (
        <ErrorAlert error={stored.error} title="This preview cannot be shown" />
      )}
      {plan && state !== 'preview' && <SpentPreview org={org} loaded={stored.data!} />}
      {plan && (
        <>
          <SwitchedOff plan={plan} />
          <PreviewRecipients plan={plan} />
          <PreviewResults plan={plan} excluded={excluded} setExcluded={setExcluded} />
          <Card withBorder>
            <Group justify="space-between">
              <Text>
                {ticked} of {total} changes ticked · {plan.unchanged} unchanged · {plan.skipped.length}{' '}
                skipped · preview valid until {when(plan.expiresAt)}
              </Text>
              <Group gap="md">
                <PreviewCsvLink org={org} planId={plan.planId} />
                <Button
                  color="green"
                  onClick={() => setConfirming(true)}
                  disabled={total === 0 || state !== 'preview'}
                >
                  Execute
                </Button>
              </Group>
            </Group>
          </Card>
          <Modal opened={confirming} onClose={() => setConfirming(false)} title="Execute the sync?">
            <Stack>
              <Text>
                {applySentence(plan, excluded)}
                {excluded.size ? ' The unticked changes will be planned again next time.' : ''}
              </Text>
              <List size="sm">
                {CATEGORIES.filter((c) => plan[c].length).map((c) => (
                  <List.Item key={c}>
                    {CATEGORY_LABELS[c]}: {plan[c].filter((ch) => !excluded.has(ch.id)).length} of{' '}
                    {plan[c].length}
                  </List.Item>
                ))}
              </List>
              {execute.error && <ErrorAlert error={execute.error} title="Not executed" />}
              <Group justify="flex-end">
                <Button variant="default" onClick={() => setConfirming(false)}>
                  Cancel
                </Button>
                <Button
                  color="green"
                  loading={execute.isPending}
                  onClick={() => execute.mutate(plan)}
                  data-autofocus
                >
                  Execute {ticked} change{ticked === 1 ? '' : 's'}
                </Button>
              </Group>
            </Stack>
          </Modal>
        </>
      )}
      {execute.data && <Outcome result={execute.data} onAgain={() => preview.mutate()} />}
    </Stack>
  );
}

/** Why a preview read back from its URL can no longer be executed, and what to do instead. */
function SpentPreview({ org, loaded }: { org: string; loaded: LoadedPlan }) {
  const run = loaded.run;
  const runLink = run && (
    <Anchor component={Link} to={`/orgs/${org}/history/${run.id}`}>
      run {run.id}
    </Anchor>
  );
  if (loaded.state === 'held')
    return (
      <Alert color="orange" title="This is the plan of a held run">
        Review it, untick what should not happen, and approve or dismiss it on the page of {runLink}.
      </Alert>
    );
  if (loaded.state === 'executed' || loaded.state === 'running')
    return (
      <Alert color="blue" title="This preview was executed">
        It was applied by {runLink}. Search again for a new preview.
      </Alert>
    );
  return (
    <Alert color="yellow" title="This preview is out of date">
      Another sync was applied after it, so it can no longer be executed: Search again.
    </Alert>
  );
}

/** Changes this run leaves out because their how-switch is off, so nobody wonders where they went. */
function SwitchedOff({ plan }: { plan: Preview }) {
  const off = CATEGORIES.filter((c) => (plan.switchedOff?.[c] ?? 0) > 0);
  if (!off.length) return null;
  return (
    <Alert color="gray" title="Not planned: switched off for this run">
      {off.map((c) => `${CATEGORY_LABELS[c]}: ${plan.switchedOff?.[c]}`).join(' · ')}. Turn the switch on
      under How to sync and Search again to see them.
    </Alert>
  );
}

/** What an execution did: applied per category, conflicts, errors; and the way to its history entry. */
function Outcome({ result, onAgain }: { result: ExecuteResult; onAgain: () => void }) {
  const org = useOrgRef();
  const conflicts = result.conflicts ?? [];
  const errors = result.errors ?? [];
  return (
    <Card withBorder component="section" aria-labelledby="outcome-title" data-testid="sync-outcome">
      <Stack>
        <Title order={2} size="h4" id="outcome-title">
          {errors.length ? 'The sync finished with errors' : 'The sync is done'}
        </Title>
        <Table maw={480} aria-label="Applied changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Category</Table.Th>
              <Table.Th>Applied</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {CATEGORIES.map((c) => (
              <Table.Tr key={c}>
                <Table.Td>{CATEGORY_LABELS[c]}</Table.Td>
                <Table.Td>{result.applied[c] ?? 0}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Text>
          Unticked (not applied): {result.excluded} · Conflicts: {conflicts.length} · Errors: {errors.length}
        </Text>
        {result.seats && <Text>Billable users: {seatsText(result.seats)}</Text>}
        {conflicts.length > 0 && (
          <Alert color="orange" title="Conflicts: changed since the preview, not applied">
            <List size="sm">
              {conflicts.map((c) => (
                <List.Item key={c.changeId}>{c.message}</List.Item>
              ))}
            </List>
          </Alert>
        )}
        <RunErrors errors={errors} />
        <Group>
          <Button component={Link} to={`/orgs/${org}/history/${result.runId}`} variant="default">
            Open this run in the history
          </Button>
          <Button variant="subtle" onClick={onAgain}>
            Search again
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}
