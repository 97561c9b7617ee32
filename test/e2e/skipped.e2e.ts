import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { connectOrg } from '../jobs/support.js';
import { addPerson, screenshot, signedInOverview, startConsole } from './support.js';

const DOMAIN = 'skipped.example';

/**
 * Skipped by reason: the Skipped tab counts entries per reason and filters by it, and the tenant's
 * own onmicrosoft.com aliases are one line, not an entry per object — in the preview and on the
 * run's page alike.
 */
describe('console: skipped entries by reason', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 84 });
    for (let i = 0; i < 3; i++) {
      const address = `user${i}@${DOMAIN}`;
      emu.tenant.addUser({
        displayName: `User ${i}`,
        userPrincipalName: address,
        mail: address,
        proxyAddresses: [
          `SMTP:${address}`,
          `smtp:user${i}@skipped.onmicrosoft.com`,
          `smtp:user${i}@skipped.mail.onmicrosoft.com`,
          ...(i === 0 ? ['smtp:user0@elsewhere.example'] : []),
        ],
      });
    }
    for (const name of ['guest1', 'guest2']) {
      emu.tenant.addUser({
        displayName: name,
        userPrincipalName: `${name}_partner.example#EXT#@skipped.onmicrosoft.com`,
        mail: `${name}@partner.example`,
        userType: 'Guest',
      });
    }
    ({ app, baseUrl, close } = await startConsole());
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: null });
    await addPerson(app, orgId, { email: `admin@${DOMAIN}`, role: 'org_admin' });
    ({ browser, page, checkErrors } = await signedInOverview(baseUrl, `admin@${DOMAIN}`, orgId));
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  const chip = (name: string) => page.locator('label', { hasText: name });
  const table = () => page.getByRole('table', { name: /Skipped/ });

  it('filters the Skipped tab by reason and says the onmicrosoft.com aliases once, as expected', async () => {
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByRole('tab', { name: /Skipped\s*3/ }).click();
    await page
      .getByText("6 aliases in the tenant's own onmicrosoft.com domains left out, as expected.")
      .waitFor();
    // No entry names an onmicrosoft.com alias: they are counted, not listed (a guest's UPN still says it).
    expect(await table().getByText('@skipped.mail.onmicrosoft.com').count()).toBe(0);
    expect(await table().getByText('user1@skipped.onmicrosoft.com').count()).toBe(0);
    await chip('All · 3').waitFor();
    await chip('Alias outside your domains · 1').waitFor();

    await chip('Guest user · 2').click();
    await table().getByText('guest2@partner.example', { exact: true }).waitFor();
    await table().getByText('user0@elsewhere.example', { exact: true }).waitFor({ state: 'detached' });
    expect(await table().locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'skipped-by-reason');

    await chip('Alias outside your domains · 1').click();
    await table().getByText('user0@elsewhere.example', { exact: true }).waitFor();
    expect(await table().locator('tbody tr').count()).toBe(1);
    // The Why text wraps inside its cell, and the table fits the page: nothing is cut off.
    expect(await table().locator('tbody tr td').last().getAttribute('style')).toContain(
      'white-space: normal',
    );
    const box = (await table().boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(1280);

    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Execute 3 changes' }).click();
    await page.getByTestId('sync-outcome').waitFor();
    await page.getByRole('link', { name: 'Open this run in the history' }).click();
    await page.getByRole('heading', { name: 'Skipped (3)' }).waitFor();
    await page
      .getByText("6 aliases in the tenant's own onmicrosoft.com domains left out, as expected.")
      .waitFor();
    await chip('Guest user · 2').click();
    expect(await table().locator('tbody tr').count()).toBe(2);
    checkErrors();
  });
});
