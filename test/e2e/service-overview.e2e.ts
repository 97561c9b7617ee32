import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/services/app.js';
import {
  addPerson,
  launchBrowser,
  PASSWORD,
  screenshot,
  signIn,
  startConsole,
  watchConsoleErrors,
} from './support.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

/**
 * The operator's Service overview: organizations by what needs attention, the held and failing
 * ones first; sorted by name at a click on the column; filtered by need; each row opens its org.
 */
describe('console: the operator sees across organizations what needs attention', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  const ids: Record<string, string> = {};

  async function seed(name: string, domain: string, state: { key?: string; runs?: [string, number][] }) {
    const id = (await app.orgs.create({ name, domains: [domain] }, 'e2e')).id;
    ids[name] = id;
    await app.store.db
      .insertInto('entra_settings')
      .values({
        org_id: id,
        tenant: 'tenant.onmicrosoft.com',
        client_id: '00000000-0000-0000-0000-000000000000',
        secret_ciphertext: 'sealed',
        secret_last4: 'abcd',
        secret_expires_at: state.key ?? dateIn(300),
        default_role: 'end_user',
        what: '{}',
        how: '{}',
        frequency_hours: 6,
        cloud: 'global',
        authority_host: null,
        graph_url: null,
        ca_pem: null,
        endpoints_by_operator: false,
        include_guests: false,
        blocked_mailboxes: 'deliver',
        updated_at: hoursAgo(100),
      })
      .execute();
    for (const [i, [status, hours]] of (state.runs ?? []).entries()) {
      await app.store.db
        .insertInto('sync_runs')
        .values({
          org_id: id,
          id: `${domain}-${i}`,
          trigger: 'automatic',
          actor: 'scheduler',
          plan_id: null,
          status,
          started_at: hoursAgo(hours),
          finished_at: hoursAgo(hours - 0.1),
          summary: '{}',
          detail: null,
        })
        .execute();
    }
  }

  beforeAll(async () => {
    ({ app, baseUrl, close } = await startConsole());
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    // Named so that by name the healthy ones come first and the urgent ones last.
    await seed('Aardvark Healthy', 'aardvark.test', { runs: [['succeeded', 2]] });
    await seed('Badger Expiring', 'badger.test', { key: dateIn(12), runs: [['succeeded', 3]] });
    await seed('Yak Held', 'yak.test', {
      runs: [
        ['succeeded', 30],
        ['held', 1],
      ],
    });
    await seed('Zebra Failing', 'zebra.test', { runs: [['failed', 1]] });
    const never = (await app.orgs.create({ name: 'Marten Never', domains: ['marten.test'] }, 'e2e')).id;
    ids['Marten Never'] = never;
    await addPerson(app, never, { email: 'admin@marten.test', role: 'org_admin' });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.setDefaultTimeout(Number(process.env.E2E_TIMEOUT ?? 30_000));
    checkErrors = watchConsoleErrors(page);
    await signIn(page, baseUrl, 'ops@service.test');
    await page.waitForURL('**/orgs');
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  const table = () => page.getByRole('table', { name: 'Organizations by attention' });
  const nameHeader = () => table().locator('thead th', { hasText: 'Organization' });
  async function orgNames(): Promise<string[]> {
    const links = table().locator('tbody').getByRole('link');
    return links.allTextContents();
  }

  it('opens from the menu with the failing and held organizations first', async () => {
    await page.getByRole('link', { name: 'Service overview' }).click();
    await page.waitForURL('**/service-overview');
    await page.getByRole('heading', { name: 'Service overview' }).waitFor();
    await table().getByRole('link', { name: 'Zebra Failing' }).waitFor();
    await expect
      .poll(orgNames)
      .toEqual(['Zebra Failing', 'Yak Held', 'Badger Expiring', 'Marten Never', 'Aardvark Healthy']);
    const first = table().locator('tbody tr').first();
    await first.getByText('Failing').first().waitFor();
    await first.getByText('Unhealthy').waitFor();
    await table().locator('tbody tr').nth(1).getByText('Held run').waitFor();
    await table()
      .getByText(`${dateIn(12)} (12 days)`)
      .waitFor();
    await screenshot(page, 'service-overview');
  });

  it('sorts by name, either way, and keeps the sort in the address', async () => {
    await nameHeader().click();
    await expect
      .poll(orgNames)
      .toEqual(['Aardvark Healthy', 'Badger Expiring', 'Marten Never', 'Yak Held', 'Zebra Failing']);
    expect(page.url()).toMatch(/sort=name/);
    await nameHeader().click();
    await expect.poll(async () => (await orgNames())[0]).toBe('Zebra Failing');
    expect(page.url()).toMatch(/order=desc/);
    await page.reload();
    await expect.poll(async () => (await orgNames())[0]).toBe('Zebra Failing');
  });

  it('filters by need, and a row opens its organization', async () => {
    await page.getByRole('combobox', { name: 'Show' }).click();
    await page.getByRole('option', { name: 'Held run' }).click();
    await expect.poll(orgNames).toEqual(['Yak Held']);
    await page.getByText('1 organization', { exact: true }).waitFor();
    await table().getByRole('link', { name: 'Yak Held' }).click();
    await page.waitForURL(`**/orgs/${ids['Yak Held']}/overview`);
    checkErrors();
  });

  it('is not shown to an organization admin', async () => {
    const other = await (await browser.newContext()).newPage();
    await signIn(other, baseUrl, 'admin@marten.test');
    await other.waitForURL(`**/orgs/${ids['Marten Never']}/overview`);
    expect(await other.getByRole('link', { name: 'Service overview' }).count()).toBe(0);
    await other.goto(`${baseUrl}/service-overview`);
    await other.waitForURL(`**/orgs/${ids['Marten Never']}/overview`);
    await other.close();
  });
});
