import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MailboxKind } from '../../src/directory/recipients.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { jobsLogger } from '../../src/jobs/logger.js';
import { Notifier } from '../../src/jobs/notifier.js';
import type { App } from '../../src/services/app.js';
import { searchForPreview } from './search-support.js';
import {
  addPerson,
  launchBrowser,
  PASSWORD,
  screenshot,
  signIn,
  startConsole,
  watchConsoleErrors,
} from './support.js';

/** The parts of a preview this test reads. */
interface Plan {
  usersToAdd: Array<{
    id: string;
    address: string;
    user: { status: 'active' | 'inactive'; mailbox: MailboxKind | null };
  }>;
  seats: { before: number; after: number; licensed: number | null };
  blockedSignIn: { functional: number; person: number; rule: number };
  read: { mailboxes: { denied: boolean } };
}

const FUNCTIONAL: readonly (MailboxKind | null)[] = ['shared', 'room', 'equipment'];
const ORG = 'Fabrikam';

/**
 * Recipients as Exchange knows them, in a browser against an emulated tenant that has a shared,
 * a room and an equipment mailbox with sign-in blocked: the rule for mailboxes of unknown purpose
 * (and what a preview says without MailboxSettings.Read), the functional accounts in the preview
 * and in the Users page, and an operator's licence that the next sync would pass.
 */
describe('console: functional accounts, blocked sign-ins, licensed seats', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let admin: string;
  let plan: Plan;
  let runId: string;
  /** A person the execute leaves out, so the next sync adds one billable user. */
  let leftOut: Plan['usersToAdd'][number];

  /** Points the organization at one of the emulator's apps (the settings page is sync.e2e's). */
  async function connectWith(displayName: string) {
    const entraApp = emu.info.apps.find((a) => a.displayName === displayName)!;
    await app.entraSettings(orgId).set(
      {
        tenant: emu.info.tenantDomains[0],
        clientId: entraApp.clientId,
        clientSecret: entraApp.clientSecret,
        authorityHost: emu.info.authorityHost,
        graphUrl: emu.info.graphBaseUrl,
        caPem: emu.info.caPem,
      },
      { allowCustomEndpoints: true, byOperator: true },
      'e2e',
    );
  }

  /** Presses Search on the sync page and returns the preview the page received. */
  async function search(): Promise<Plan> {
    const body = await searchForPreview<Plan>(page);
    await page.getByRole('heading', { name: 'Billing and blocked sign-ins' }).waitFor();
    return body;
  }

  beforeAll(async () => {
    // Seed 43 draws a shared, a room and an equipment mailbox among 60 users.
    emu = await startEmulator({ users: 60, groups: 4, seed: 43 });
    ({ app, baseUrl, close } = await startConsole());
    orgId = (await app.orgs.create({ name: ORG, domains: emu.info.tenantDomains }, 'e2e')).id;
    admin = `it-admin@${emu.info.tenantDomains[0]}`;
    await addPerson(app, orgId, { email: admin, role: 'org_admin' });
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    await connectWith('entrasync-directory-only');
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(Number(process.env.E2E_TIMEOUT ?? 30_000));
    checkErrors = watchConsoleErrors(page);
    await signIn(page, baseUrl, admin);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });

  it('saves the rule for blocked mailboxes of unknown purpose with the form, leaving the endpoints alone', async () => {
    await page.getByRole('link', { name: 'Import Users → Azure Active Directory', exact: true }).click();
    const rule = page.getByRole('radiogroup', { name: 'Mailboxes with sign-in blocked' });
    await page.getByText("Applies only when Exchange cannot tell us a mailbox's purpose").waitFor();
    expect(await rule.getByRole('radio', { name: 'Keep receiving mail (default)' }).isChecked()).toBe(true);
    await rule.getByRole('radio', { name: 'Reject mail (inactive)' }).check();
    await screenshot(page, 'entra-settings-blocked-mailboxes');
    const request = page.waitForRequest((r) => r.method() === 'PUT' && r.url().endsWith('/entra-settings'));
    await page.getByRole('button', { name: 'Save' }).click();
    const body = (await request).postDataJSON() as Record<string, unknown>;
    await page.getByRole('status').getByText('The settings were saved.').waitFor();
    expect(body.blockedMailboxes).toBe('reject');
    // Unchanged custom endpoints are not resent: a server without custom endpoints would refuse them.
    for (const endpoint of ['authorityHost', 'graphUrl', 'caPem'])
      expect(Object.keys(body)).not.toContain(endpoint);
    const saved = await app.entraSettings(orgId).get();
    expect(saved.blockedMailboxes).toBe('reject');
    expect(saved.graphUrl).toBe(emu.info.graphBaseUrl);
  });

  it('without MailboxSettings.Read, the preview says the rule decided and why', async () => {
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    const denied = await search();
    expect(denied.read.mailboxes.denied).toBe(true);
    expect(denied.blockedSignIn.functional).toBe(0);
    expect(denied.blockedSignIn.rule).toBeGreaterThanOrEqual(3);
    await page
      .getByText(
        `Sign-in blocked in Entra: ${denied.blockedSignIn.rule} of unknown purpose made inactive by your rule — MailboxSettings.Read is not granted`,
      )
      .waitFor();
    await page.getByRole('link', { name: 'Import Users → Azure Active Directory' }).last().waitFor();
    await page
      .getByText(
        `Billable users: ${denied.seats.before} → ${denied.seats.after} (licensed seats not tracked)`,
      )
      .waitFor();
    await screenshot(page, 'preview-mailboxes-denied');
  });

  it('with MailboxSettings.Read, shared, room and equipment mailboxes stay deliverable and are named', async () => {
    await connectWith('entrasync-sync');
    plan = await search();
    const functional = plan.usersToAdd.filter((c) => FUNCTIONAL.includes(c.user.mailbox));
    expect(new Set(functional.map((c) => c.user.mailbox))).toEqual(new Set(['equipment', 'room', 'shared']));
    expect(functional.every((c) => c.user.status === 'active')).toBe(true);
    expect(plan.read.mailboxes.denied).toBe(false);
    expect(plan.blockedSignIn.functional).toBe(functional.length);
    await page
      .getByText(
        `Sign-in blocked in Entra: ${functional.length} shared, room or equipment mailboxes stay deliverable`,
      )
      .waitFor();
    await page.getByText(/people's mailboxes become inactive|person's mailbox becomes inactive/).waitFor();
    // The admin added by hand is billed already; every active person added is billed too.
    const billedAdds = plan.usersToAdd.filter(
      (c) => c.user.status === 'active' && !FUNCTIONAL.includes(c.user.mailbox),
    );
    expect(plan.seats).toEqual({ before: 1, after: 1 + billedAdds.length, licensed: null });
    await page.getByText(`Billable users: 1 → ${plan.seats.after} (licensed seats not tracked)`).waitFor();
    expect(await page.getByText('More billable users than licensed').count()).toBe(0);

    const table = page.getByRole('table', { name: 'Users to add' });
    await table.getByRole('columnheader', { name: 'Mailbox' }).waitFor();
    const badges: Record<string, RegExp> = {
      shared: /^Shared$/i,
      room: /^Room$/i,
      equipment: /^Equipment$/i,
    };
    for (const c of functional) {
      await page.getByLabel('Filter results').fill(c.address);
      await table
        .getByRole('row', { name: new RegExp(c.address.replace(/\./g, '\\.')) })
        .getByText(badges[c.user.mailbox!]!)
        .waitFor();
    }
    await page.getByLabel('Filter results').fill('');
    await screenshot(page, 'preview-mailboxes');
  });

  it('executes all but one person, with the keyboard', async () => {
    leftOut = plan.usersToAdd
      .slice(0, 50)
      .find((c) => c.user.status === 'active' && !FUNCTIONAL.includes(c.user.mailbox))!;
    const box = page.getByRole('checkbox', { name: `Apply: ${leftOut.address}` });
    await box.focus();
    await page.keyboard.press('Space');
    expect(await box.isChecked()).toBe(false);
    const response = page.waitForResponse((r) => r.url().endsWith('/sync/execute'));
    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /^Execute \d+ changes$/ })
      .click();
    runId = ((await (await response).json()) as { runId: string }).runId;
    await page.getByTestId('sync-outcome').getByText('The sync is done').waitFor();
  });

  it('the Users filter "Functional accounts" lists them; one receives mail but cannot sign in', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.getByRole('columnheader', { name: 'Mailbox' }).waitFor();
    const filtered = page.waitForResponse((r) => r.url().includes('mailbox=functional'));
    await page.getByRole('combobox', { name: 'Mailbox' }).focus();
    await page.keyboard.press('ArrowDown');
    await page.getByRole('option', { name: 'Functional accounts (shared, room, equipment)' }).click();
    await filtered;
    const table = page.getByRole('table', { name: 'Users' });
    const expected = plan.usersToAdd.filter((c) => FUNCTIONAL.includes(c.user.mailbox));
    for (const c of expected) await table.getByRole('link', { name: c.address, exact: true }).waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(expected.length);
    await table.getByText(/^Room$/i).waitFor();
    await screenshot(page, 'users-functional');

    const shared = expected.find((c) => c.user.mailbox === 'shared')!;
    await table.getByRole('link', { name: shared.address, exact: true }).click();
    const facts = page.getByRole('list', { name: 'What the service does for this user' });
    await facts.getByText('Receives mail', { exact: true }).waitFor();
    await facts
      .getByText(
        "Cannot sign in to the console — This is a shared mailbox, not a person's: it receives mail, but nobody signs in to it.",
      )
      .waitFor();
    expect(await facts.getByText('Can sign in to the console', { exact: true }).count()).toBe(0);
    await facts.getByText('Gets no quarantine digests').waitFor();
    await facts.getByText('Not billed: shared, room and equipment mailboxes are not counted').waitFor();
    await page.getByText('Shared mailbox: a functional account').waitFor();
    await screenshot(page, 'user-shared-mailbox');
  });

  it('an operator sets the licensed seats, and the preview warns that the next sync passes them', async () => {
    const billedNow = plan.seats.after - 1;
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signIn(page, baseUrl, 'ops@service.test');
    await page.waitForURL('**/orgs');
    await page.getByRole('button', { name: `Set the licensed seats of ${ORG}` }).click();
    const dialog = page.getByRole('dialog', { name: `Licensed seats of ${ORG}` });
    await dialog.getByLabel('Licensed seats').fill(String(billedNow));
    await dialog.getByRole('button', { name: 'Save seats' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page
      .getByRole('row', { name: `Open ${ORG}` })
      .getByText(String(billedNow), { exact: true })
      .waitFor();
    expect((await app.orgs.get(orgId)).licensedSeats).toBe(billedNow);

    await page
      .getByRole('row', { name: `Open ${ORG}` })
      .getByRole('cell', { name: ORG, exact: true })
      .click();
    await page.getByTestId('licensed-seats').getByText(`Licensed seats: ${billedNow}`).waitFor();
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    const next = await search();
    expect(next.usersToAdd.map((c) => c.address)).toEqual([leftOut.address]);
    expect(next.seats).toEqual({ before: billedNow, after: billedNow + 1, licensed: billedNow });
    await page
      .getByText(`Billable users: ${billedNow} → ${billedNow + 1} (of ${billedNow} licensed)`)
      .waitFor();
    const warning = page.getByRole('status').filter({ hasText: 'More billable users than licensed' });
    await warning
      .getByText(
        `After this sync ${billedNow + 1} users would be billed: 1 more than the ${billedNow} seats the licence covers.`,
      )
      .waitFor();
    await screenshot(page, 'preview-seats-exceeded');
  });

  it('a seats_exceeded notification says so and opens its run, which shows the billable users', async () => {
    await new Notifier(
      app,
      { smtpUrl: undefined, mailFrom: 'e2e@localhost', allowPrivateWebhooks: false, publicUrl: undefined },
      jobsLogger({ level: 'silent' }),
    ).notify(orgId, {
      kind: 'seats_exceeded',
      dedupeKey: `seats_exceeded:${runId}`,
      runId,
      title: 'More users than licensed',
      message: `The automatic sync of ${ORG} passed the seats of its licence.`,
    });
    await page.reload();
    await page.getByRole('button', { name: 'Notifications: 1 unread' }).click();
    const popover = page.getByRole('dialog').filter({ hasText: 'More users than licensed' });
    // Badges are upper-cased by CSS, which the text the browser exposes follows.
    await popover.getByText(/^Over the licence$/i).waitFor();
    await popover.getByRole('link', { name: 'open the run' }).click();
    await page.getByRole('heading', { name: /Sync run of/ }).waitFor();
    const seats = page.getByRole('row', { name: /Billable users/ });
    await seats.getByText(`1 → ${plan.seats.after - 1} (licensed seats not tracked)`).waitFor();
    await screenshot(page, 'run-seats');
    await page.getByRole('link', { name: '← Sync history' }).click();
    await page
      .getByRole('table', { name: 'Sync runs' })
      .getByRole('cell', { name: `1 → ${plan.seats.after - 1}`, exact: true })
      .waitFor();
    await screenshot(page, 'history-seats');
    checkErrors();
  });
});
