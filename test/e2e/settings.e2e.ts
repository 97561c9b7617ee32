import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { AutomationService } from '../../src/jobs/automation.js';
import type { App } from '../../src/services/app.js';
import { addPerson, launchBrowser, screenshot, signIn, startConsole, watchConsoleErrors } from './support.js';

/**
 * The settings pages on the server as shipped (custom endpoints off), for an organization
 * connected as the demo is: its custom endpoints set by the operator, not by the page.
 */
describe('console: settings that refuse what would break the sync (server as shipped)', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  const secret = () => emu.info.apps[0]!.clientSecret;

  beforeAll(async () => {
    emu = await startEmulator({ users: 10, groups: 3, seed: 3 });
    ({ app, baseUrl, close } = await startConsole());
    expect(app.config.allowCustomCloud).toBe(false);
    const domain = emu.info.tenantDomains[0]!;
    orgId = (await app.orgs.create({ name: 'Demo-like', domains: emu.info.tenantDomains }, 'e2e')).id;
    await app.entraSettings(orgId).set(
      {
        tenant: domain,
        clientId: emu.info.apps[0]!.clientId,
        clientSecret: secret(),
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'operator',
    );
    const admin = `it-admin@${domain}`;
    await addPerson(app, orgId, { email: admin, role: 'org_admin' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    checkErrors = watchConsoleErrors(page);
    await signIn(page, baseUrl, admin);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  const openSettings = async () => {
    await page.getByRole('link', { name: 'Import Users → Azure Active Directory', exact: true }).click();
    await page.getByRole('heading', { name: 'Azure Active Directory', level: 1 }).waitFor();
    await page.getByText('Set, ends in …').waitFor();
  };

  it('saves a change and says so', async () => {
    await openSettings();
    await page.getByRole('radio', { name: 'Silent User' }).check();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').getByText('The settings were saved.').waitFor();
    await page.getByText('The Azure Active Directory settings were saved.').waitFor();
    expect((await app.entraSettings(orgId).get()).defaultRole).toBe('silent_user');
    // Saved twice more while the first toast shows: still one toast, not a stack of three.
    for (const role of ['End User', 'Silent User']) {
      await page.getByRole('radio', { name: role }).check();
      const saved = page.waitForResponse(
        (r) => r.request().method() === 'PUT' && r.url().includes('entra-settings'),
      );
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      expect((await saved).status()).toBe(200);
    }
    expect(await page.getByText('The Azure Active Directory settings were saved.').count()).toBe(1);
  });

  it('shows a refused key under Key, keeps the old one, and offers Save anyway', async () => {
    await page.getByLabel('Key (client secret)').fill('abcde');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('this is not a valid key of this app').waitFor();
    // Under the Key field itself, not in an alert elsewhere.
    await page
      .locator('.mantine-PasswordInput-root', { has: page.getByLabel('Key (client secret)') })
      .getByText('this is not a valid key of this app')
      .waitFor();
    await page.getByRole('button', { name: 'Save anyway' }).waitFor();
    await screenshot(page, 'settings-refused-key');
    expect((await app.entraSettings(orgId).get()).secret.last4).toBe(secret().slice(-4));
    await page.getByRole('button', { name: 'Save anyway' }).click();
    await page.getByRole('status').getByText('The new key was not tried').waitFor();
    expect((await app.entraSettings(orgId).get()).secret.last4).toBe('bcde');
    // Back to the working key: tried, and saved.
    await page.getByLabel('Key (client secret)').fill(secret());
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(`Set, ends in …${secret().slice(-4)}`).waitFor();
  });

  it('shows every field refusal at once, next to its field', async () => {
    await page.getByLabel('Client ID').fill('');
    await page.getByLabel('Key expiry date').fill('2020-01-01');
    for (const label of ['Active Users', 'Distribution Groups', 'Security Groups'])
      await page.getByRole('checkbox', { name: label }).uncheck();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('The client ID is required').waitFor();
    await page.getByText('The key expiry date 2020-01-01 is in the past').waitFor();
    await page.getByText('Choose at least one thing to sync').waitFor();
    expect(await page.getByLabel('Client ID').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'settings-all-errors');
  });

  it('opens the folded Custom endpoints panel when a refusal is inside it', async () => {
    await openSettings();
    const panel = page.getByRole('button', { name: 'Custom endpoints (emulator, test servers)' });
    await panel.click();
    await page.getByLabel('Graph URL').fill('https://127.0.0.1:9');
    await panel.click();
    await page.getByLabel('Graph URL').waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Custom endpoints are disabled on this server').waitFor();
    await page.getByLabel('Graph URL').waitFor({ state: 'visible' });
    expect((await app.entraSettings(orgId).get()).graphUrl).toBe(emu.info.graphBaseUrl);
  });

  it('Automatic sync: says a saved webhook is never delivered, and saves other changes', async () => {
    await new AutomationService(app, orgId, true).set({ webhookUrl: 'http://127.0.0.1:9/hook' }, 'cli');
    await page.getByRole('link', { name: 'Automatic sync', exact: true }).click();
    await page.getByText('This webhook receives nothing').waitFor();
    await page.getByLabel('Share of synced users').fill('20');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('The automatic-sync settings were saved.').waitFor();
    expect((await new AutomationService(app, orgId, false).get()).safeguard.percent).toBe(20);
    checkErrors();
  });
});
