import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { readPlan } from './search-support.js';
import { addPerson, screenshot, signedInOverview, startConsole } from './support.js';

interface PlannedChange {
  id: string;
  address: string | null;
  name: string;
}
type Plan = Record<'usersToAdd' | 'groupsToAdd', PlannedChange[]>;

/**
 * Search as a job, in a browser against a slow emulated tenant (small delta pages, latency on
 * every Graph request): the read's progress shows live, then the preview; unticks survive a
 * reload and Execute applies exactly the rest; a reload or a return re-attaches to a running
 * search, and Cancel stops it with nothing stored.
 */
describe('console: Search runs as a job, with progress, cancel and kept unticks', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let syncUrl: string;

  beforeAll(async () => {
    emu = await startEmulator({ users: 30, groups: 4, seed: 23, deltaPageSize: 5, latencyMs: 250 });
    ({ app, baseUrl, close } = await startConsole());
    orgId = (await app.orgs.create({ name: 'Northwind', domains: emu.info.tenantDomains }, 'e2e')).id;
    const domain = emu.info.tenantDomains[0]!;
    await addPerson(app, orgId, { email: `admin@${domain}`, role: 'org_admin' });
    const entraApp = emu.info.apps[0]!;
    await app.entraSettings(orgId).set(
      {
        tenant: domain,
        clientId: entraApp.clientId,
        clientSecret: entraApp.clientSecret,
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'e2e',
    );
    syncUrl = `${baseUrl}/orgs/${orgId}/settings/users-groups/azure-ad-sync`;
    ({ browser, page, checkErrors } = await signedInOverview(baseUrl, `admin@${domain}`, orgId));
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  const progress = () => page.getByTestId('search-progress');
  const announcer = () => page.getByTestId('search-announcer');

  it('shows the read per collection while it runs, then the preview with focus on its heading', async () => {
    await page.goto(syncUrl);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL('**?search=*');
    await progress().getByRole('heading', { name: 'Searching' }).waitFor();
    await progress()
      .getByText(/^Users: \d+ pages?, \d+ objects? read$/)
      .waitFor();
    expect(await announcer().textContent()).toMatch(/Reading the tenant from Entra…|Starting the search…/);
    await progress().getByRole('button', { name: 'Cancel' }).waitFor();

    await page.waitForURL('**?plan=*');
    await page.getByRole('heading', { name: 'Results' }).waitFor();
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.id'))
      .toBe('results-title');
    expect(await progress().count()).toBe(0);
    expect(await announcer().textContent()).toBe('The search is done: its preview is shown.');
  });

  it('keeps two unticked changes across a reload, and Execute applies exactly the rest', async () => {
    const planId = new URL(page.url()).searchParams.get('plan')!;
    const plan = await readPlan<Plan>(page, planId);
    const total = plan.usersToAdd.length + plan.groupsToAdd.length;
    expect(plan.usersToAdd.length).toBeGreaterThan(5);
    const [first, second] = plan.usersToAdd;
    await page.getByText(`${total} of ${total} changes ticked`).waitFor();
    await page.getByRole('tab', { name: /Users to add/ }).click();
    for (const change of [first!, second!]) {
      await page.getByRole('checkbox', { name: `Apply: ${change.address}` }).click();
    }
    await page.getByText(`${total - 2} of ${total} changes ticked`).waitFor();

    await page.reload();
    await page.getByText(`${total - 2} of ${total} changes ticked`).waitFor();
    expect(page.url()).toContain(`plan=${planId}`);
    await page.getByRole('tab', { name: /Users to add/ }).click();
    expect(await page.getByRole('checkbox', { name: `Apply: ${first!.address}` }).isChecked()).toBe(false);
    expect(await page.getByRole('checkbox', { name: `Apply: ${second!.address}` }).isChecked()).toBe(false);
    expect(
      await page.getByRole('checkbox', { name: `Apply: ${plan.usersToAdd[2]!.address}` }).isChecked(),
    ).toBe(true);

    // A return from another page keeps them too.
    await page.getByRole('link', { name: 'Users', exact: true }).first().click();
    await page.waitForURL(`**/orgs/${orgId}/users`);
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    await page.waitForURL(`**?plan=${planId}`);
    await page.getByText(`${total - 2} of ${total} changes ticked`).waitFor();

    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: `Execute ${total - 2} changes` })
      .click();
    await page.getByTestId('sync-outcome').getByText('Unticked (not applied): 2').waitFor();
    const dir = await app.directory(orgId);
    const emails = (await dir.listUsers({ limit: 1000, offset: 0 })).items.map((u) => u.email);
    expect(emails).not.toContain(first!.address);
    expect(emails).not.toContain(second!.address);
    for (const change of plan.usersToAdd.slice(2)) expect(emails).toContain(change.address);
    const groups = (await dir.listGroups({ limit: 1000, offset: 0 })).items.map((g) => g.name);
    for (const change of plan.groupsToAdd) expect(groups).toContain(change.name);
  });

  it('re-attaches to a running search after a reload and a return, and Cancel stores nothing', async () => {
    // Slow enough that the read is still running through the reload, the return and Cancel:
    // 2 s a request, and a full read again (the delta after the execute would be one page each).
    emu.setLatency(2000);
    emu.tenant.expireDeltaTokens();
    await page.goto(syncUrl);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL('**?search=*');
    const searchId = new URL(page.url()).searchParams.get('search')!;
    await progress().getByRole('heading', { name: 'Searching' }).waitFor();

    await page.reload();
    await progress().getByRole('heading', { name: 'Searching' }).waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe(searchId);

    // Back without ?search=: the page finds the organization's running search.
    await page.getByRole('link', { name: 'Users', exact: true }).first().click();
    await page.waitForURL(`**/orgs/${orgId}/users`);
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    await page.waitForURL(`**?search=${searchId}`);
    await progress().getByRole('heading', { name: 'Searching' }).waitFor();
    await progress()
      .getByText(/^Users: \d+ pages?, \d+ objects? read$/)
      .waitFor();
    await screenshot(page, 'sync-search-progress');

    await progress().getByRole('button', { name: 'Cancel' }).click();
    await page.getByTestId('search-cancelled').getByText('Cancelled: nothing was stored').waitFor();
    await announcer().getByText('Cancelled: nothing was stored.').waitFor();
    expect(await page.getByRole('heading', { name: 'Results' }).count()).toBe(0);
    expect(page.url()).not.toContain('plan=');
    await screenshot(page, 'sync-search-cancelled');

    const view = (await page.evaluate(
      async (url) => (await fetch(url, { headers: { accept: 'application/json' } })).json(),
      `/api/v1/orgs/${orgId}/sync/searches/${searchId}`,
    )) as { state: string; planId: string | null };
    expect(view).toMatchObject({ state: 'cancelled', planId: null });
    emu.setLatency(0);
    checkErrors();
  });
});
