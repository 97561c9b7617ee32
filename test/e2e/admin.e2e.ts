import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsLogger } from '../../src/jobs/logger.js';
import { Notifier } from '../../src/jobs/notifier.js';
import type { App } from '../../src/services/app.js';
import { addPerson, launchBrowser, screenshot, signIn, startConsole, watchConsoleErrors } from './support.js';

/**
 * An org admin's work by hand: users and groups (add, edit, delete, password), the automatic-sync
 * settings, notifications, API tokens and the audit log — every refusal under its field.
 */
describe('console: users and groups by hand, automation, notifications, tokens, audit', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;

  beforeAll(async () => {
    ({ app, baseUrl, close } = await startConsole());
    orgId = (await app.orgs.create({ name: 'Northwind', domains: ['northwind.test'] }, 'e2e')).id;
    await addPerson(app, orgId, { email: 'admin@northwind.test', role: 'org_admin' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(Number(process.env.E2E_TIMEOUT ?? 30_000));
    checkErrors = watchConsoleErrors(page);
    await signIn(page, baseUrl, 'admin@northwind.test');
    await page.waitForURL(`**/orgs/${orgId}/overview`);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  /** The invalid field's own error text (Mantine links it with aria-describedby). */
  async function fieldError(label: string): Promise<string> {
    const input = page.getByRole('dialog').getByLabel(label);
    await expect.poll(() => input.getAttribute('aria-invalid')).toBe('true');
    const ids = (await input.getAttribute('aria-describedby')) ?? '';
    const texts = await Promise.all(
      ids
        .split(' ')
        .filter(Boolean)
        .map((id) => page.locator(`[id="${id}"]`).textContent()),
    );
    return texts.join(' ');
  }

  it('adds a user by hand; a refusal shows under its field; roles are explained', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    // With the keyboard: Enter on the button opens the dialog with the cursor in Address.
    await page.getByRole('button', { name: 'Add user' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    const addressId = await dialog.getByLabel('Address').getAttribute('id');
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.id'))
      .toBe(addressId);
    await dialog.getByText('Protected, but cannot sign in and receives no quarantine digests.').waitFor();
    await dialog.getByText('May sign in to the console and receives quarantine digests.').waitFor();
    await dialog.getByLabel('Address').fill('nancy@elsewhere.test');
    await dialog.getByLabel('Aliases').fill('n.davolio@northwind.test');
    await page.keyboard.press('Enter');
    await dialog.getByLabel('First name').fill('Nancy');
    await dialog.getByLabel('Last name').fill('Davolio');
    await dialog.getByRole('radio', { name: 'Silent User' }).check();
    await dialog.getByRole('button', { name: 'Add user' }).click();
    expect(await fieldError('Address')).toContain("not in one of the organization's domains");
    await screenshot(page, 'user-add-refused');

    await dialog.getByLabel('Address').fill('nancy@northwind.test');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: /nancy@northwind\.test/ });
    await row.getByText('Silent User').waitFor();
    await row.getByText('n.davolio@northwind.test').waitFor();
    await row.getByText('Added by hand').waitFor();
    await screenshot(page, 'users-added-by-hand');
  });

  it("edits a user's role and status, sets the console password, and the user can sign in", async () => {
    await page.getByRole('link', { name: 'nancy@northwind.test' }).click();
    await page.getByRole('button', { name: 'Edit user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit nancy@northwind.test' });
    await dialog.getByRole('radio', { name: 'End User' }).check();
    await dialog.getByLabel('Display name').fill('Nancy D.');
    await dialog.getByRole('button', { name: 'Save user' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('heading', { name: 'Nancy D.' }).waitFor();
    await page.getByRole('cell', { name: 'End User' }).waitFor();

    await page.getByLabel('New console password').fill('short');
    await page.getByLabel('Repeat the password').fill('short');
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('The password needs at least 12 characters.').waitFor();
    const password = 'nancy-console-pass-1';
    await page.getByLabel('New console password').fill(password);
    await page.getByLabel('Repeat the password').fill(password);
    await page.getByRole('button', { name: 'Set password' }).click();
    await page.getByText('The console password of nancy@northwind.test was set.').waitFor();
    await screenshot(page, 'user-edited');
    const login = await fetch(`${baseUrl}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'nancy@northwind.test', password }),
    });
    expect(login.status).toBe(200);
  });

  it('adds a group by hand with members; an unknown member is refused under Members', async () => {
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByRole('button', { name: 'Add group' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a group' });
    await dialog.getByLabel('Name').fill('Night shift');
    await dialog.getByRole('radio', { name: 'Security' }).check();
    await dialog.getByLabel('Address').fill('night@northwind.test');
    await dialog.getByLabel('Members').fill('nobody@northwind.test');
    await page.keyboard.press('Enter');
    await dialog.getByRole('button', { name: 'Add group' }).click();
    expect(await fieldError('Members')).toContain('No user or group with the address nobody@northwind.test');

    // Remove the unknown member with the keyboard (Backspace in an empty tags field drops the last).
    await dialog.getByLabel('Members').focus();
    await page.keyboard.press('Backspace');
    // Members are suggested from the directory as one types; the keyboard picks one.
    await dialog.getByLabel('Members').fill('nancy');
    await page.getByRole('option', { name: 'nancy@northwind.test' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await dialog.getByText('nancy@northwind.test', { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Add group' }).click();
    await dialog.waitFor({ state: 'detached' });
    const row = page.getByRole('row', { name: /Night shift/ });
    await row.getByText('Security').waitFor();
    await row.getByText('night@northwind.test').waitFor();
    await screenshot(page, 'groups-added-by-hand');

    await row.getByRole('link', { name: 'Night shift' }).click();
    await page
      .getByRole('region', { name: 'Direct members (1)' })
      .getByText('nancy@northwind.test')
      .waitFor();
  });

  it('deletes a group and a user after a confirmation', async () => {
    await page.getByRole('button', { name: 'Delete group' }).click();
    await page
      .getByRole('dialog', { name: 'Delete Night shift?' })
      .getByRole('button', { name: 'Delete group' })
      .click();
    await page.waitForURL(`**/orgs/${orgId}/groups`);
    await page.getByText('No groups yet.').waitFor();

    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('link', { name: 'nancy@northwind.test' }).click();
    await page.getByRole('button', { name: 'Delete user' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete nancy@northwind.test?' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Delete user' }).click();
    await confirm.getByRole('button', { name: 'Delete user' }).click();
    await page.waitForURL(`**/orgs/${orgId}/users`);
    await page.getByRole('link', { name: 'admin@northwind.test' }).waitFor();
    expect(await page.getByRole('link', { name: 'nancy@northwind.test' }).count()).toBe(0);
  });

  it('saves the automatic-sync settings; a refused webhook URL shows under its field', async () => {
    await page.getByRole('link', { name: 'Automatic sync' }).click();
    await page.getByRole('heading', { name: 'Automatic sync', level: 1 }).waitFor();
    await page.getByText('more than 10 % of the synced users, and at least 10 of them').waitFor();
    await page.getByLabel('Share of synced users').fill('25');
    await page.getByLabel('At least this many users').fill('5');
    await page.getByLabel('Webhook URL').fill('http://hooks.example.com/entrasync');
    await page.getByRole('button', { name: 'Save' }).click();
    const url = page.getByLabel('Webhook URL');
    await expect.poll(() => url.getAttribute('aria-invalid')).toBe('true');
    await page.getByText('The webhook URL must use https.').waitFor();

    await url.fill('');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('more than 25 % of the synced users, and at least 5 of them').waitFor();
    await screenshot(page, 'automation');
  });

  it('shows unread notifications in the header and marks them read', async () => {
    await new Notifier(
      app,
      { smtpUrl: undefined, mailFrom: 'e2e@localhost', allowPrivateWebhooks: false, publicUrl: undefined },
      jobsLogger({ level: 'silent' }),
    ).notify(orgId, {
      kind: 'sync_failed',
      dedupeKey: 'e2e-1',
      title: 'The automatic sync failed',
      message: 'The client secret is wrong.',
    });
    await page.reload();
    const button = page.getByRole('button', { name: 'Notifications: 1 unread' });
    await button.click();
    await page.getByText('The client secret is wrong.').first().waitFor();
    await screenshot(page, 'notifications');
    await page.getByRole('button', { name: 'Mark all as read' }).first().click();
    await page.getByRole('button', { name: 'Notifications: 0 unread' }).waitFor();
    await page.keyboard.press('Escape');
  });

  it('creates an API token shown once, which works until it is revoked', async () => {
    await page.getByRole('link', { name: 'API tokens' }).click();
    await page.getByText('No API tokens yet.').waitFor();
    await page.getByLabel('Token name').fill('nightly export');
    await page.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('new-token').textContent()) ?? '';
    expect(token).toMatch(/^es_/);
    await page
      .getByRole('row', { name: /nightly export/ })
      .getByText('Never')
      .waitFor();
    await screenshot(page, 'api-tokens');
    const asToken = () =>
      fetch(`${baseUrl}/api/v1/orgs/${orgId}/users`, { headers: { authorization: `Bearer ${token}` } });
    expect((await asToken()).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke nightly export' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
    await page.getByText('No API tokens yet.').waitFor();
    expect((await asToken()).status).toBe(401);
  });

  it('lists who changed what in the audit log', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit log' });
    await table.getByText('admin@northwind.test').first().waitFor();
    await page.getByLabel('Filter entries').fill('group');
    await table
      .getByText(/Night shift/)
      .first()
      .waitFor();
    await page.getByLabel('Filter entries').fill('');
    await screenshot(page, 'audit');
    checkErrors();
  });
});
