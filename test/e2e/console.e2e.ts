import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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

/** Sign-in by role, the directory pages and the refusals, in a real browser against the real server. */
describe('console: sign-in, directory pages, refusals', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let checkErrors: () => void;
  let contoso: string;
  let fabrikam: string;

  beforeAll(async () => {
    ({ app, baseUrl, close } = await startConsole());
    browser = await launchBrowser();
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    contoso = (await app.orgs.create({ name: 'Contoso', domains: ['contoso.com'] }, 'e2e')).id;
    fabrikam = (await app.orgs.create({ name: 'Fabrikam', domains: ['fabrikam.com'] }, 'e2e')).id;
    await addPerson(app, contoso, {
      email: 'admin@contoso.com',
      role: 'org_admin',
      displayName: 'Ada Admin',
    });
    await addPerson(app, contoso, {
      email: 'end@contoso.com',
      role: 'end_user',
      aliases: ['eve@contoso.com'],
      displayName: 'Eve End',
    });
    await addPerson(app, contoso, { email: 'silent@contoso.com', role: 'silent_user' });
    await addPerson(app, fabrikam, { email: 'admin@fabrikam.com', role: 'org_admin' });
    const dir = await app.directory(contoso);
    for (let i = 1; i <= 60; i++)
      await dir.addUser({ email: `user${String(i).padStart(2, '0')}@contoso.com` }, 'e2e');
    await dir.addGroup(
      { name: 'Sales EMEA', kind: 'distribution', members: ['user01@contoso.com', 'user02@contoso.com'] },
      'e2e',
    );
    await dir.addGroup(
      {
        name: 'Sales',
        kind: 'security',
        email: 'sales@contoso.com',
        members: ['Sales EMEA', 'user03@contoso.com'],
      },
      'e2e',
    );
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    checkErrors = watchConsoleErrors(page);
    return async () => {
      checkErrors();
      await context.close();
    };
  });

  it('signs an org admin in with the keyboard alone and shows the overview', async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL(`**/orgs/${contoso}/overview`);
    await page.getByRole('heading', { name: 'Contoso', level: 1 }).waitFor();
    await page.getByRole('region', { name: 'Users' }).getByText('63').waitFor();
    await screenshot(page, 'overview');
  });

  it('lists, searches and pages users; opens one; toggles exempt', async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL('**/overview');
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
    await page.getByText('1 - 50 / 63').waitFor();
    await screenshot(page, 'users');
    await page.getByLabel('Search users').fill('eve@');
    await page.getByText('1 - 1 / 1').waitFor();
    await page.getByRole('link', { name: 'end@contoso.com' }).click();
    await page.getByRole('heading', { name: 'Eve End' }).waitFor();
    await expect(page.getByText('eve@contoso.com').count()).resolves.toBe(1);
    await page.getByText('End User', { exact: true }).waitFor();
    const exempt = page.getByRole('switch', { name: 'Exempt from sync' });
    expect(await exempt.isChecked()).toBe(false);
    await exempt.focus();
    await page.keyboard.press('Space');
    await page.getByText('end@contoso.com is now exempt from sync').waitFor();
    await screenshot(page, 'user-detail');
    const dir = await app.directory(contoso);
    expect((await dir.listUsers({ search: 'end@contoso.com', limit: 1, offset: 0 })).items[0]?.exempt).toBe(
      true,
    );
  });

  it('shows groups with kind, address, direct and effective members', async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL('**/overview');
    await page.goto(`${baseUrl}/orgs/${contoso}/groups`);
    await page.getByRole('link', { name: 'Sales', exact: true }).click();
    await page.getByRole('heading', { name: 'Sales', level: 1 }).waitFor();
    const direct = page.getByRole('region', { name: /Direct members \(2\)/ });
    await direct.getByText('user03@contoso.com').waitFor();
    const effective = page.getByRole('region', { name: /Effective members \(3\)/ });
    for (const u of ['user01@contoso.com', 'user02@contoso.com', 'user03@contoso.com'])
      await effective.getByText(u).waitFor();
    await page.getByText('Functional account').waitFor();
    await screenshot(page, 'group-detail');
  });

  it('adds and removes a domain', async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL('**/overview');
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByLabel('Domain', { exact: true }).fill('contoso.net');
    await page.keyboard.press('Enter');
    await page.getByRole('cell', { name: 'contoso.net', exact: true }).waitFor();
    // An org admin's domain is pending until proven (test/e2e/domains.e2e.ts proves one).
    expect((await app.orgs.get(contoso)).pendingDomains).toContain('contoso.net');
    await screenshot(page, 'domains');
    await page.getByRole('button', { name: 'Remove contoso.net' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove domain' }).click();
    await page.getByRole('cell', { name: 'contoso.net', exact: true }).waitFor({ state: 'detached' });
    expect(await app.orgs.get(contoso)).toMatchObject({ domains: ['contoso.com'], pendingDomains: [] });
  });

  it('refuses a silent user with the sentence saying why', async () => {
    await signIn(page, baseUrl, 'silent@contoso.com');
    const alert = page.getByRole('alert');
    await alert.getByText('Silent users cannot sign in to the console').waitFor();
    expect(page.url()).toContain('/sign-in');
    await screenshot(page, 'sign-in-silent-refused');
  });

  it('shows an end user only their own profile, aliases and digest setting', async () => {
    await signIn(page, baseUrl, 'end@contoso.com');
    await page.waitForURL('**/me');
    await page.getByText('eve@contoso.com').waitFor();
    await page.getByText('You receive quarantine digests').waitFor();
    await screenshot(page, 'self-service');
    // An end user administers nothing: organization pages lead back to the profile, and the API refuses.
    await page.goto(`${baseUrl}/orgs/${contoso}/users`);
    await page.waitForURL('**/me');
    const status = await page.evaluate(
      async (org) => (await fetch(`/api/v1/orgs/${org}/users`)).status,
      contoso,
    );
    expect(status).toBe(403);
  });

  it("keeps an org admin out of another organization's pages and API", async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL('**/overview');
    await page.goto(`${baseUrl}/orgs/${fabrikam}/users`);
    await page.getByRole('alert').getByText('You are not an administrator of this organization.').waitFor();
    expect(await page.getByText('admin@fabrikam.com').count()).toBe(0);
    await screenshot(page, 'cross-org-refused');
    // The same session's own fetches, as a script on the page could make them.
    const status = await page.evaluate(async (org) => {
      const read = await fetch(`/api/v1/orgs/${org}/users`);
      const settings = await fetch(`/api/v1/orgs/${org}/entra-settings`);
      return [read.status, settings.status];
    }, fabrikam);
    expect(status).toEqual([403, 403]);
  });

  it('lets an operator create an organization and switch between organizations', async () => {
    await signIn(page, baseUrl, 'ops@service.test');
    await page.waitForURL('**/orgs');
    await page.getByRole('heading', { name: 'Organizations' }).waitFor();
    await page.getByLabel('Name').fill('Northwind');
    await page.getByRole('combobox', { name: 'Domains' }).fill('northwind.test');
    await page.keyboard.press('Enter');
    await screenshot(page, 'organizations');
    await page.getByRole('button', { name: 'Create organization' }).click();
    await page.getByRole('heading', { name: 'Northwind', level: 1 }).waitFor();
    // The switcher by keyboard: focus, type to narrow, pick.
    await page.getByRole('combobox', { name: 'Organization' }).focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('Fabri');
    await page.getByRole('option', { name: 'Fabrikam' }).waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fabrikam', level: 1 }).waitFor();
    expect(page.url()).toContain(`/orgs/${fabrikam}/overview`);
  });

  it('sends the person back to sign-in with a message when the session expires', async () => {
    await signIn(page, baseUrl, 'admin@contoso.com');
    await page.waitForURL('**/overview');
    await page.getByRole('region', { name: 'Users' }).getByText('63').waitFor();
    // The server forgets the session (expiry or revocation): the next request answers 401.
    await app.store.db.deleteFrom('sessions').execute();
    await page.getByRole('link', { name: 'Groups', exact: true }).click();
    await page.getByText('Your session has expired: sign in again.').waitFor();
    expect(page.url()).toContain('/sign-in');
    // Signing in again returns to the page the person was going to.
    await page.getByLabel('Email address').fill('admin@contoso.com');
    await page.getByRole('textbox', { name: 'Password' }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`**/orgs/${contoso}/groups`);
  });
});
