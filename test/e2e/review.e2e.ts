import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg } from '../jobs/support.js';
import { searchForPreview } from './search-support.js';
import { addPerson, screenshot, signedInOverview, startConsole } from './support.js';

const DOMAIN = 'review.example';

/**
 * Review you can trust: a preview is addressable (its plan id in the URL survives a reload),
 * and a held run is reviewed like a preview — its removals listed, one unticked, a confirmation
 * stating the counts, and exactly the rest applied.
 */
describe('console: addressable previews and held-run review', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let ids: string[];

  const emails = async () =>
    (await (await app.directory(orgId)).listUsers({ limit: 500, offset: 0 })).items.map((u) => u.email);

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 83 });
    ids = addUsers(emu, DOMAIN, 12);
    ({ app, baseUrl, close } = await startConsole());
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: null, removeUsers: true });
    await addPerson(app, orgId, { email: `admin@${DOMAIN}`, role: 'org_admin' });
    ({ browser, page, checkErrors } = await signedInOverview(baseUrl, `admin@${DOMAIN}`, orgId));
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  it('keeps a preview across a reload and a visit to Users: the URL names its plan', async () => {
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    const { planId } = await searchForPreview(page);
    await page.waitForURL(`**?plan=${planId}`);
    await page.getByText('12 of 12 changes ticked').waitFor();

    await page.reload();
    await page.getByRole('tab', { name: /Users to add\s*12/ }).waitFor();
    await page.getByText('12 of 12 changes ticked').waitFor();
    expect(page.url()).toContain(`plan=${planId}`);

    await page.getByRole('link', { name: 'Users', exact: true }).first().click();
    await page.waitForURL(`**/orgs/${orgId}/users`);
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    await page.waitForURL(`**?plan=${planId}`);
    await page.getByText('12 of 12 changes ticked').waitFor();

    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Apply 12 changes: 12 users to add.').waitFor();
    await dialog.getByRole('button', { name: 'Execute 12 changes' }).click();
    await page.getByTestId('sync-outcome').waitFor();
    expect(page.url()).not.toContain('plan=');
    expect(await emails()).toHaveLength(13);
  });

  it('reviews a held run: its removals listed, one unticked, the counts confirmed, the rest applied', async () => {
    // Three users leave Entra and one is disabled; the automatic sync is held (here by a safeguard that always holds).
    for (const id of ids.slice(0, 3)) emu.tenant.deleteUser(id, { permanent: true });
    emu.tenant.updateUser(ids[3]!, { accountEnabled: false });
    const held = await (await app.sync(orgId)).execute(
      {
        trigger: 'scheduled',
        safeguard: async () => ({
          message: 'This sync would remove or deactivate 4 of 12 synced users.',
          removals: 4,
          syncedUsers: 12,
        }),
      },
      'scheduler',
    );
    expect(held.status).toBe('held');

    await page.getByRole('link', { name: 'Overview' }).first().click();
    await page.getByRole('link', { name: 'Review the held sync' }).click();
    await page.waitForURL(`**/history/${held.runId}`);
    await page.getByRole('tab', { name: /Users to remove\s*3/ }).click();
    for (const n of [0, 1, 2]) await page.getByText(`user${n}@${DOMAIN}`, { exact: true }).waitFor();
    await page.getByText('4 of 4 changes ticked').waitFor();

    const box = page.getByRole('checkbox', { name: `Apply: user1@${DOMAIN}` });
    await box.focus();
    await page.keyboard.press('Space');
    expect(await box.isChecked()).toBe(false);
    await page.getByText('3 of 4 changes ticked').waitFor();
    await screenshot(page, 'held-run-review');

    await page.getByRole('button', { name: 'Approve and apply' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Apply 3 changes: 2 removals, 1 deactivation; 1 left out.').waitFor();
    await dialog.getByRole('button', { name: 'Apply 3 changes' }).click();
    await page.getByText('The held sync was applied: 3 changes, 1 left out.').waitFor();

    const now = await emails();
    expect(now).toContain(`user1@${DOMAIN}`);
    expect(now).not.toContain(`user0@${DOMAIN}`);
    expect(now).not.toContain(`user2@${DOMAIN}`);
    expect((await (await app.sync(orgId)).run(held.runId)).status).toBe('succeeded');
    checkErrors();
  });
});
