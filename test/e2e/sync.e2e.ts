import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { searchForPreview } from './search-support.js';
import { addPerson, launchBrowser, screenshot, signIn, startConsole, watchConsoleErrors } from './support.js';

interface PlannedChange {
  id: string;
  address: string | null;
  name: string;
}

/**
 * The knowledge-base flow in a browser against an emulated tenant: connect (wrong key first),
 * preview, untick one user and one group, execute, and find exactly the rest in the directory
 * and the run in History. One page walks the whole flow, as an admin would.
 */
describe('console: connect Azure AD, preview, untick, execute, history', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let admin: string;
  let domain: string;
  let plan: Record<'usersToAdd' | 'groupsToAdd', PlannedChange[]> & { planId: string };
  let untickedUser: PlannedChange;
  let untickedGroup: PlannedChange;

  beforeAll(async () => {
    emu = await startEmulator({ users: 40, groups: 8, seed: 11 });
    // The admin types the emulator's endpoints into the console, which only a server that allows
    // custom clouds accepts (settings.e2e.ts and admin.e2e.ts run the server as shipped).
    ({ app, baseUrl, close } = await startConsole({ env: { ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' } }));
    domain = emu.info.tenantDomains[0]!;
    orgId = (await app.orgs.create({ name: 'Tailspin', domains: emu.info.tenantDomains }, 'e2e')).id;
    admin = `it-admin@${domain}`;
    await addPerson(app, orgId, { email: admin, role: 'org_admin' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    checkErrors = watchConsoleErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  it('signs in as the org admin', async () => {
    await signIn(page, baseUrl, admin);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
  });

  it('saves settings with a wrong key, and Test connection says the key is wrong', async () => {
    await page.getByRole('link', { name: 'Import Users → Azure Active Directory', exact: true }).click();
    await page.getByRole('heading', { name: 'Azure Active Directory', level: 1 }).waitFor();
    await page.getByLabel('Primary domain').fill(domain);
    await page.getByLabel('Client ID').fill(emu.info.apps[0]!.clientId);
    await page.getByLabel('Key (client secret)').fill('not~the-right-secret-at-all');
    await page.getByLabel('Key expiry date').fill('2027-06-30');
    await page.getByRole('button', { name: 'Custom endpoints (emulator, test servers)' }).click();
    await page.getByLabel('Authority host').fill(emu.info.authorityHost);
    await page.getByLabel('Graph URL').fill(emu.info.graphBaseUrl);
    await page.getByLabel('CA certificate (PEM)').fill(emu.info.caPem);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    // Entra refuses the key when it is tried: not saved, unless saved anyway.
    await page.getByText('this is not a valid key of this app').waitFor();
    await page.getByRole('button', { name: 'Save anyway' }).click();
    await page.getByRole('status').getByText('The settings were saved.').waitFor();
    await page.getByText('Set, ends in …').waitFor();

    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByTestId('test-result');
    await result.getByText('The connection does not work yet').waitFor();
    await result.getByText('Sign in as the app (client ID and key): failed').waitFor();
    await result.getByText('The client secret is wrong').waitFor();
    await screenshot(page, 'entra-settings-wrong-secret');
  });

  it('refuses a bad field with a message next to it', async () => {
    await page.getByLabel('Client ID').fill('not-a-guid');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('is not a client ID').waitFor();
    expect(await page.getByLabel('Client ID').getAttribute('aria-invalid')).toBe('true');
    await page.getByLabel('Client ID').fill(emu.info.apps[0]!.clientId);
  });

  it('names the missing permissions and gives the admin-consent link for an app without consent', async () => {
    const noConsent = emu.info.apps.find((a) => a.displayName === 'entrasync-no-consent')!;
    await page.getByLabel('Client ID').fill(noConsent.clientId);
    await page.getByLabel('Key (client secret)').fill(noConsent.clientSecret);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Set, ends in …${noConsent.clientSecret.slice(-4)}`).waitFor();
    await page.getByRole('button', { name: 'Test connection' }).click();
    const result = page.getByTestId('test-result');
    await result.getByText('The connection does not work yet').waitFor();
    await result
      .getByText(/needs User\.Read\.All and GroupMember\.Read\.All/)
      .first()
      .waitFor();
    const consent = result.getByRole('link', { name: 'admin consent' });
    expect(await consent.getAttribute('href')).toContain(noConsent.clientId);
    await screenshot(page, 'entra-settings-no-consent');
    await page.getByLabel('Client ID').fill(emu.info.apps[0]!.clientId);
  });

  it('fixes the key, saves with a confirmation, and the test passes', async () => {
    const secret = emu.info.apps[0]!.clientSecret;
    await page.getByLabel('Key (client secret)').fill(secret);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(`Set, ends in …${secret.slice(-4)}`).waitFor();
    await page.getByRole('status').getByText('The settings were saved.').waitFor();
    // The key is never shown back: not in the page, not in the settings the page read.
    expect(await page.content()).not.toContain(secret);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByTestId('test-result').getByText('The connection works').waitFor();
    await page
      .getByRole('link', { name: 'open the admin-consent link for this tenant and client ID' })
      .waitFor();
    await screenshot(page, 'entra-settings');
  });

  it('searches and shows the results by category with counts', async () => {
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    await page.getByText('Automatic syncs apply every change without review').waitFor();
    plan = await searchForPreview<typeof plan>(page);
    expect(plan.usersToAdd.length).toBeGreaterThan(5);
    expect(plan.groupsToAdd.length).toBeGreaterThan(1);
    await page.getByRole('tab', { name: new RegExp(`Users to add\\s*${plan.usersToAdd.length}`) }).waitFor();
    await page
      .getByRole('tab', { name: new RegExp(`Groups to add\\s*${plan.groupsToAdd.length}`) })
      .waitFor();
    const total = plan.usersToAdd.length + plan.groupsToAdd.length;
    await page.getByText(`${total} of ${total} changes ticked`).waitFor();
    // The seven category tabs stay in one row, at this width and at a narrow one (scrolled).
    for (const width of [1280, 800]) {
      await page.setViewportSize({ width, height: 900 });
      const tops = await page
        .getByRole('tab')
        .evaluateAll((tabs) => tabs.map((t) => t.getBoundingClientRect().top));
      expect(tops).toHaveLength(7);
      expect(new Set(tops).size, `tabs in one row at ${width} px`).toBe(1);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await screenshot(page, 'sync-preview');
  });

  it('filters the results by text', async () => {
    const probe = plan.usersToAdd[1]!;
    await page.getByLabel('Filter results').fill(probe.address!);
    await page
      .getByRole('tab', { name: new RegExp(`Users to add\\s*1/${plan.usersToAdd.length}`) })
      .waitFor();
    await page.getByLabel('Filter results').fill('');
  });

  it('unticks one user to add and one group to add, with the keyboard', async () => {
    untickedUser = plan.usersToAdd[0]!;
    untickedGroup = plan.groupsToAdd[0]!;
    await page.getByRole('tab', { name: /Users to add/ }).click();
    const userBox = page.getByRole('checkbox', { name: `Apply: ${untickedUser.address}` });
    expect(await userBox.isChecked()).toBe(true);
    await userBox.focus();
    await page.keyboard.press('Space');
    expect(await userBox.isChecked()).toBe(false);
    await page.getByRole('tab', { name: /Groups to add/ }).click();
    const groupBox = page.getByRole('checkbox', {
      name: `Apply: ${untickedGroup.address ?? untickedGroup.name}`,
    });
    await groupBox.focus();
    await page.keyboard.press('Space');
    expect(await groupBox.isChecked()).toBe(false);
    const total = plan.usersToAdd.length + plan.groupsToAdd.length;
    await page.getByText(`${total - 2} of ${total} changes ticked`).waitFor();
  });

  it('executes exactly the ticked changes and shows the outcome', async () => {
    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    const dialog = page.getByRole('dialog');
    const total = plan.usersToAdd.length + plan.groupsToAdd.length;
    await dialog.getByRole('button', { name: `Execute ${total - 2} changes` }).click();
    const outcome = page.getByTestId('sync-outcome');
    await outcome.getByText('The sync is done').waitFor();
    const applied = outcome.getByRole('table', { name: 'Applied changes' });
    await applied
      .getByRole('row', { name: new RegExp(`Users to add\\s*${plan.usersToAdd.length - 1}$`) })
      .waitFor();
    await applied
      .getByRole('row', { name: new RegExp(`Groups to add\\s*${plan.groupsToAdd.length - 1}$`) })
      .waitFor();
    await outcome.getByText('Unticked (not applied): 2').waitFor();
    await screenshot(page, 'sync-outcome');

    // The directory holds exactly the ticked changes.
    const dir = await app.directory(orgId);
    const users = (await dir.listUsers({ limit: 1000, offset: 0 })).items.map((u) => u.email);
    const groups = (await dir.listGroups({ limit: 1000, offset: 0 })).items.map((g) => g.name);
    expect(users).not.toContain(untickedUser.address);
    expect(groups).not.toContain(untickedGroup.name);
    for (const u of plan.usersToAdd.slice(1)) expect(users).toContain(u.address);
    for (const g of plan.groupsToAdd.slice(1)) expect(groups).toContain(g.name);
  });

  it('shows the applied users and groups in the lists, and not the unticked ones', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    const search = page.getByLabel('Search users');
    await search.fill(untickedUser.address!);
    await page.getByText('No user matches the search.').waitFor();
    await search.fill(plan.usersToAdd[1]!.address!);
    await page.getByRole('link', { name: plan.usersToAdd[1]!.address! }).waitFor();
    await page.getByRole('cell', { name: 'Entra ID sync' }).waitFor();

    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    const groupSearch = page.getByLabel('Search groups');
    await groupSearch.fill(untickedGroup.name);
    await page.getByText('No group matches the search.').waitFor();
    await groupSearch.fill(plan.groupsToAdd[1]!.name);
    await page.getByRole('link', { name: plan.groupsToAdd[1]!.name, exact: true }).waitFor();
    await screenshot(page, 'groups');
  });

  it('lists the run in History and opens it to the per-change detail', async () => {
    await page.getByRole('link', { name: 'Sync history' }).click();
    const row = page.getByRole('row', { name: new RegExp(`Manual\\s*${admin.replace('.', '\\.')}`) });
    await row.waitFor();
    await screenshot(page, 'history');
    await row.getByRole('link').click();
    await page.getByRole('heading', { name: /Sync run of/ }).waitFor();
    await page.getByText('Succeeded').first().waitFor();
    // The segmented control's label is what a pointer clicks (its radio input is visually hidden).
    await page.locator('label', { hasText: /^Unticked$/ }).click();
    const changes = page.getByRole('table', { name: 'Changes of this run' });
    // The object's own cell (its detail names the address too: "address · End User · …").
    await changes.getByText(untickedUser.address!, { exact: true }).waitFor();
    await changes.getByText(untickedGroup.name, { exact: true }).waitFor();
    expect(await changes.locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'run-detail');
  });

  it('shows the last successful sync on the overview', async () => {
    await page.getByRole('link', { name: 'Overview' }).click();
    const last = page.getByRole('region', { name: 'Last successful sync' });
    await last.getByRole('link', { name: 'Open the run' }).click();
    await page.getByRole('heading', { name: /Sync run of/ }).waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByText('Healthy').waitFor();
    await screenshot(page, 'overview-synced');
    checkErrors();
  });
});
