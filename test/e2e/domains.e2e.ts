import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/services/app.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import {
  addPerson,
  launchBrowser,
  PASSWORD,
  screenshot,
  signIn,
  startConsole,
  watchConsoleErrors,
} from './support.js';

/**
 * Domains must be proven: an org admin's new domain is pending, shows the TXT record to publish,
 * and Verify says what it found until the record is there (served by a DNS server of the test's
 * own, which the server is configured to ask); an operator's domain counts at once.
 */
describe('console: domains are pending until proven', () => {
  let dns: TestDnsServer;
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;

  beforeAll(async () => {
    dns = await startDnsServer();
    ({ app, baseUrl, close } = await startConsole({
      env: { ENTRASYNC_DNS_SERVERS: `127.0.0.1:${dns.port}` },
    }));
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    orgId = (await app.orgs.create({ name: 'Fabrikam', domains: ['fabrikam.test'] }, 'e2e')).id;
    await app.orgs.create({ name: 'Contoso', domains: ['contoso.test'] }, 'e2e');
    await addPerson(app, orgId, { email: 'admin@fabrikam.test', role: 'org_admin' });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await dns?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
    page = await context.newPage();
    page.setDefaultTimeout(Number(process.env.E2E_TIMEOUT ?? 30_000));
    checkErrors = watchConsoleErrors(page);
    return async () => {
      checkErrors();
      await context.close();
    };
  });

  const domainRow = (domain: string) =>
    page
      .getByRole('table', { name: 'Domains' })
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: domain, exact: true }) });

  it('keeps an org admin’s domain pending with its TXT record, explains a failed Verify, and verifies it once the record is published', async () => {
    await signIn(page, baseUrl, 'admin@fabrikam.test');
    await page.waitForURL(`**/orgs/${orgId}/overview`);
    await page.getByRole('link', { name: 'Domains' }).click();
    await domainRow('fabrikam.test').getByText('Verified').waitFor();
    await domainRow('fabrikam.test')
      .getByText(/added by an operator/)
      .waitFor();
    await page.getByText('It stays pending until you prove it', { exact: false }).waitFor();

    await page.getByLabel('Domain', { exact: true }).fill('fabrikam-mail.test');
    await page.keyboard.press('Enter');
    const row = domainRow('fabrikam-mail.test');
    await row.getByText('Pending').waitFor();
    await row.getByText('accepts no address until proven').waitFor();
    const panel = page.getByRole('region', { name: 'Prove fabrikam-mail.test' });
    const record = panel.getByRole('table', { name: 'TXT record for fabrikam-mail.test' });
    await record
      .getByRole('row', { name: /^Name \/ Host/ })
      .getByText('fabrikam-mail.test', { exact: true })
      .waitFor();
    await record.getByRole('row', { name: /^Type/ }).getByText('TXT', { exact: true }).waitFor();
    const value =
      (await record
        .getByRole('row', { name: /^Value/ })
        .locator('code')
        .textContent()) ?? '';
    expect(value).toMatch(/^entrasync-verification=\S+$/);
    await panel.getByText('Domain.Read.All', { exact: false }).waitFor();
    // Copy puts exactly the value on the clipboard.
    await panel
      .getByRole('button', { name: 'Copy the value of the TXT record for fabrikam-mail.test' })
      .click();
    await panel
      .getByRole('button', { name: 'Copied the value of the TXT record for fabrikam-mail.test' })
      .waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(value);
    const org = await app.orgs.get(orgId);
    expect(org.pendingDomains).toEqual(['fabrikam-mail.test']);
    expect(org.domains).toEqual(['fabrikam.test']);
    await screenshot(page, 'domains-pending');

    // The user form names only the verified domains as accepted, the pending one apart.
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('button', { name: 'Add user' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a user' });
    await dialog
      .getByText(
        "The primary email address, in one of the organization's verified domains: fabrikam.test. Not yet accepted (pending until proven on the Domains page): fabrikam-mail.test.",
      )
      .waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Domains' }).click();

    // Verify with nothing published: the server's explanation, next to the domain.
    await panel.getByRole('button', { name: 'Verify fabrikam-mail.test' }).click();
    const refusal = panel.getByRole('alert');
    await refusal.getByText('No proof found').waitFor();
    const explanation = (await refusal.textContent()) ?? '';
    expect(explanation).toContain('fabrikam-mail.test');
    expect(explanation).toContain('TXT');
    expect(explanation).toContain(value);
    await row.getByText('Pending').waitFor();
    await screenshot(page, 'domains-not-proven');

    // Published (beside an unrelated record): Verify proves it.
    dns.setTxt('fabrikam-mail.test', ['v=spf1 -all', value]);
    await panel.getByRole('button', { name: 'Verify fabrikam-mail.test' }).click();
    await page.getByText('fabrikam-mail.test is verified by DNS record: it accepts addresses now.').waitFor();
    await row.getByText('Verified').waitFor();
    await row.getByText(/by DNS record/).waitFor();
    await panel.waitFor({ state: 'detached' });
    expect(dns.questions).toContainEqual({ name: 'fabrikam-mail.test', type: 16 });
    expect((await app.orgs.get(orgId)).domains).toEqual(['fabrikam-mail.test', 'fabrikam.test']);
    await screenshot(page, 'domains-verified');

    // A pending domain is removed after a confirmation.
    await page.getByLabel('Domain', { exact: true }).fill('fabrikam-spare.test');
    await page.keyboard.press('Enter');
    await domainRow('fabrikam-spare.test').getByText('Pending').waitFor();
    await page.getByRole('button', { name: 'Remove fabrikam-spare.test' }).click();
    const confirm = page.getByRole('dialog', { name: 'Remove fabrikam-spare.test?' });
    await confirm.getByText(/is pending and accepts no address yet/).waitFor();
    await confirm.getByRole('button', { name: 'Remove domain' }).click();
    await page.getByRole('cell', { name: 'fabrikam-spare.test', exact: true }).waitFor({ state: 'detached' });
    await page.getByRole('region', { name: 'Prove fabrikam-spare.test' }).waitFor({ state: 'detached' });
    expect((await app.orgs.get(orgId)).pendingDomains).toEqual([]);

    // Another organization's domain: not available, and nothing said of whose it is.
    await page.getByLabel('Domain', { exact: true }).fill('contoso.test');
    await page.keyboard.press('Enter');
    await page.getByText('contoso.test is not available.').waitFor();
    expect(await page.getByRole('cell', { name: 'contoso.test', exact: true }).count()).toBe(0);
  });

  it('makes an operator’s new domain count at once', async () => {
    await signIn(page, baseUrl, 'ops@service.test');
    await page.waitForURL('**/orgs');
    await page.goto(`${baseUrl}/orgs/${orgId}/domains`);
    await page.getByText('Added by an operator, it counts at once', { exact: false }).waitFor();
    await page.getByLabel('Domain', { exact: true }).fill('fabrikam.example');
    await page.keyboard.press('Enter');
    const row = domainRow('fabrikam.example');
    await row.getByText('Verified').waitFor();
    await row.getByText(/added by an operator/).waitFor();
    expect(await page.getByRole('region', { name: 'Prove fabrikam.example' }).count()).toBe(0);
    expect((await app.orgs.get(orgId)).domains).toContain('fabrikam.example');
    await screenshot(page, 'domains-operator');
  });
});
