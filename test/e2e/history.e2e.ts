import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg } from '../jobs/support.js';
import { addPerson, launchBrowser, screenshot, signIn, startConsole, watchConsoleErrors } from './support.js';

const DOMAIN = 'history-e2e.example';
const ADMIN = `admin@${DOMAIN}`;
const HOLD = async () => ({ message: 'Held by the test.', removals: 1, syncedUsers: 4 });

/**
 * History as detailed as the preview, in a real browser against the server as shipped: what a
 * run added and removed, who approved a held run, runs filtered (the URL keeps the filters), the
 * audit log naming its targets with the id on hover, and a run's changes downloaded as CSV.
 */
describe('console: history as detailed as the preview', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let manualRunId: string;
  let approvedRunId: string;

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 97 });
    const ids = addUsers(emu, DOMAIN, 3);
    emu.tenant.addUser({
      displayName: 'Front desk',
      userPrincipalName: `info@${DOMAIN}`,
      mail: `info@${DOMAIN}`,
      proxyAddresses: [`SMTP:info@${DOMAIN}`, `smtp:hello@${DOMAIN}`],
      accountEnabled: false,
      mailboxSettings: { userPurpose: 'shared' },
    });
    ({ app, baseUrl, close } = await startConsole());
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: null, removeUsers: true });
    await addPerson(app, orgId, { email: ADMIN, role: 'org_admin' });
    const sync = await app.sync(orgId);
    // A manual run that adds, an automatic one held and approved by the admin, another dismissed.
    manualRunId = (await sync.execute({ trigger: 'manual' }, ADMIN)).runId;
    emu.tenant.deleteUser(ids[0]!, { permanent: true });
    const held = await sync.execute({ trigger: 'scheduled', safeguard: HOLD }, 'scheduler');
    approvedRunId = held.runId;
    expect((await sync.approve(held.runId, ADMIN)).status).toBe('succeeded');
    emu.tenant.deleteUser(ids[1]!, { permanent: true });
    const dropped = await sync.execute({ trigger: 'scheduled', safeguard: HOLD }, 'scheduler');
    await sync.dismiss(dropped.runId, ADMIN);

    browser = await launchBrowser();
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      acceptDownloads: true,
    });
    page = await context.newPage();
    checkErrors = watchConsoleErrors(page);
    await signIn(page, baseUrl, ADMIN);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  /** A Mantine Select's input by its label (its dropdown is labelled the same). */
  const select = (label: string) => page.getByLabel(label, { exact: true }).and(page.locator('input'));
  const runRows = () => page.getByRole('table', { name: 'Sync runs' }).locator('tbody tr');

  it('filters runs by trigger and status, and the URL keeps the filters across a reload', async () => {
    await page.goto(`${baseUrl}/orgs/${orgId}/history`);
    await expect.poll(() => runRows().count()).toBe(3);
    await select('Trigger').click();
    await page.getByRole('option', { name: 'Automatic' }).click();
    await page.waitForURL('**trigger=scheduled');
    await expect.poll(() => runRows().count()).toBe(2);
    await select('Status').click();
    await page.getByRole('option', { name: 'Dismissed' }).click();
    await page.waitForURL('**status=dismissed');
    await page.reload();
    await expect.poll(() => runRows().count()).toBe(1);
    await runRows().first().getByText(`scheduler · dismissed by ${ADMIN}`).waitFor();

    const today = new Date().toISOString().slice(0, 10);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${baseUrl}/orgs/${orgId}/history?from=${tomorrow}`);
    await page.getByText('No run matches the filters.').waitFor();
    await page.goto(`${baseUrl}/orgs/${orgId}/history?from=${today}&to=${today}&trigger=manual`);
    await expect.poll(() => runRows().count()).toBe(1);
    expect(await page.getByLabel('Started from').inputValue()).toBe(today);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => runRows().count()).toBe(3);
    await screenshot(page, 'history-filters');
  });

  it("shows every add's detail and downloads the run's changes as CSV", async () => {
    await page.goto(`${baseUrl}/orgs/${orgId}/history/${manualRunId}`);
    const changes = page.getByRole('table', { name: 'Changes of this run' });
    const info = changes.locator('tr', { hasText: `info@${DOMAIN}` });
    await info.getByText(`aliases: hello@${DOMAIN}`).waitFor();
    expect(await info.textContent()).toContain('functional mailbox (shared)');
    expect(await info.textContent()).toContain('End User');
    const user2 = changes.locator('tr', { hasText: `user2@${DOMAIN}` });
    expect(await user2.textContent()).toMatch(/End User · active · no aliases/);

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download the changes (CSV)' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`sync-run-${manualRunId}.csv`);
    const csv = readFileSync((await file.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).toBe('category,id,kind,externalId,address,name,outcome,message,detail');
    expect(csv).toContain(`,info@${DOMAIN},`);
    expect(csv.split('\r\n').filter((l) => l.includes(',applied,'))).toHaveLength(4);
  });

  it('shows who approved a held run, and what its removal took away', async () => {
    await page.goto(`${baseUrl}/orgs/${orgId}/history/${approvedRunId}`);
    await page.getByTestId('run-decision').getByText(`Approved by ${ADMIN} at`).waitFor();
    const removed = page
      .getByRole('table', { name: 'Changes of this run' })
      .locator('tr', { hasText: `user0@${DOMAIN}` });
    await removed.getByText(`Removed: user0@${DOMAIN} · End User · active`).waitFor();
    await screenshot(page, 'history-approved-run');
  });

  it('names the runs in the audit log, with the id on hover', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    const approved = table.locator('tr', { hasText: 'sync.approve' });
    const link = approved.getByRole('link', { name: /^scheduled sync of / });
    expect(await link.getAttribute('title')).toBe(`sync_run ${approvedRunId}`);
    expect(await approved.textContent()).not.toContain(approvedRunId);
    const password = table.locator('tr', { hasText: 'user.password' }).first();
    await password
      .getByTitle(/^user /)
      .getByText(ADMIN)
      .waitFor();
    await link.click();
    await page.waitForURL(`**/history/${approvedRunId}`);
    checkErrors();
  });
});
