import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/services/app.js';
import { addPerson, launchBrowser, screenshot, signIn, startConsole, watchConsoleErrors } from './support.js';

const N = 100_000;

/** A preview of N users to add and a few group updates, shaped as the API sends it. */
function bigPreview() {
  const usersToAdd = Array.from({ length: N }, (_, i) => {
    const n = String(i).padStart(6, '0');
    return {
      id: `au_${n}`,
      kind: 'add_user',
      externalId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      address: `user${n}@big.test`,
      name: `User ${n}`,
      user: {
        email: `user${n}@big.test`,
        aliases: [`u${n}@big.test`],
        role: 'end_user',
        status: 'active',
        mailbox: null,
      },
    };
  });
  const groupsToUpdate = Array.from({ length: 3 }, (_, i) => ({
    id: `ug_${i}`,
    kind: 'update_group',
    externalId: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    address: `team${i}@big.test`,
    name: `Team ${i}`,
    before: { name: `Old team ${i}` },
    after: { name: `Team ${i}` },
    membersAdded: [{ type: 'user', id: null, externalId: 'x', label: 'user000001@big.test' }],
    membersRemoved: [],
    membersLeftOut: 0,
  }));
  return {
    planId: 'plan-big',
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    usersToAdd,
    usersToUpdate: [],
    usersToRemove: [],
    groupsToAdd: [],
    groupsToUpdate,
    groupsToRemove: [],
    skipped: [],
    unchanged: 0,
    seats: { before: 1, after: N + 1, licensed: null },
    blockedSignIn: { functional: 0, person: 0, rule: 0 },
    policy: { defaultRole: 'end_user', blockedMailboxes: 'deliver' },
    read: {
      mode: 'full',
      mailboxes: { needed: 0, read: 0, unknown: [], denied: false, requests: 0, issues: [] },
    },
  };
}

/**
 * Answers Search in the browser as the server would for this preview: the search job is done at
 * once, and its plan is read back page by page (`GET …/sync/plans/{planId}`).
 */
async function routeBigSearch(page: Page, preview: ReturnType<typeof bigPreview>) {
  const now = new Date().toISOString();
  const search = {
    id: 'search-big',
    state: 'done',
    phase: null,
    cancelRequested: false,
    startedAt: now,
    updatedAt: now,
    finishedAt: now,
    startedBy: 'admin@big.test',
    progress: { users: { pages: 500, objects: N }, groups: { pages: 1, objects: 3 } },
    planId: preview.planId,
    error: null,
  };
  const json = (body: unknown) => ({ contentType: 'application/json', body: JSON.stringify(body) });
  await page.route('**/sync/searches**', (route) =>
    // The page's look for a running search (on arrival) finds none; Search and its read-back find this one.
    route.fulfill(json(new URL(route.request().url()).search ? [] : search)),
  );
  const { skipped, ...rest } = preview;
  const lists = preview as unknown as Record<string, unknown[]>;
  const counts = Object.fromEntries(
    [
      'usersToAdd',
      'usersToUpdate',
      'usersToRemove',
      'groupsToAdd',
      'groupsToUpdate',
      'groupsToRemove',
      'skipped',
    ].map((c) => [c, lists[c]!.length]),
  );
  const summary = Object.fromEntries(Object.entries(rest).filter(([, v]) => !Array.isArray(v)));
  await page.route(`**/sync/plans/${preview.planId}?*`, (route) => {
    const url = new URL(route.request().url());
    const category = url.searchParams.get('category') ?? 'usersToAdd';
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 100);
    const all = category === 'skipped' ? skipped : lists[category]!;
    return route.fulfill(
      json({
        ...summary,
        state: 'preview',
        run: null,
        counts,
        deactivations: 0,
        page: {
          category,
          offset,
          limit,
          search: '',
          reason: null,
          total: all.length,
          items: all.slice(offset, offset + limit),
        },
      }),
    );
  });
}

/**
 * The preview page with 100,000 changes stays responsive: the API's answer is replaced in the
 * browser by a synthetic one (the engine's own scale is measured by `npm run bench`).
 */
describe('console: a preview of 100,000 changes', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let orgId: string;

  beforeAll(async () => {
    ({ app, baseUrl, close } = await startConsole());
    orgId = (await app.orgs.create({ name: 'Big', domains: ['big.test'] }, 'e2e')).id;
    await addPerson(app, orgId, { email: 'admin@big.test', role: 'org_admin' });
    // Search needs a configured connection; the preview itself is answered in the browser.
    await app
      .entraSettings(orgId)
      .set(
        { tenant: 'big.test', clientId: '11111111-1111-4111-8111-111111111111', clientSecret: 'x~secret' },
        { allowCustomEndpoints: false, byOperator: false },
        'e2e',
      );
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('shows, filters, unticks a whole category and pages within seconds', async () => {
    const checkErrors = watchConsoleErrors(page);
    await routeBigSearch(page, bigPreview());
    let executed: { planId: string; excludedChangeIds: string[] } | undefined;
    await page.route('**/sync/execute', async (route) => {
      executed = route.request().postDataJSON();
      await route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          runId: 'run-big',
          planId: 'plan-big',
          status: 'succeeded',
          applied: { usersToAdd: 0, groupsToUpdate: 3 },
          excluded: N,
          conflicts: [],
          skipped: 0,
          unchanged: 0,
          errors: [],
        }),
      });
    });
    await signIn(page, baseUrl, 'admin@big.test');
    await page.waitForURL('**/overview');
    await page.goto(`${baseUrl}/orgs/${orgId}/settings/users-groups/azure-ad-sync`);

    // Each step must finish (within the test's timeout); how long it took is printed, not
    // asserted: speed is for benchmarks, and a busy CI machine would make a limit flaky.
    const timed = async (what: string, work: () => Promise<unknown>) => {
      const start = Date.now();
      await work();
      console.log(`[100k] ${what}: ${Date.now() - start} ms`);
    };

    await timed('render the results', async () => {
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.getByRole('tab', { name: /Users to add\s*100000/ }).waitFor();
      await page.getByText('1 - 50 / 100000').waitFor();
    });
    await screenshot(page, 'sync-preview-100k');
    await timed('filter by text', async () => {
      await page.getByLabel('Filter results').fill('user099999');
      await page.getByRole('tab', { name: /Users to add\s*1\/100000/ }).waitFor();
    });
    await page.getByLabel('Filter results').fill('');
    await page.getByText('1 - 50 / 100000').waitFor();
    const tickAll = page.getByRole('checkbox', { name: /Tick all users to add/ });
    await timed('untick all 100,000', async () => {
      await tickAll.click();
      await page.getByText('3 of 100003 changes ticked').waitFor();
    });
    await timed('go to the last page', async () => {
      await page.getByRole('button', { name: '2000', exact: true }).click();
      await page.getByText('99951 - 100000 / 100000').waitFor();
    });
    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Execute 3 changes' }).click();
    await page.getByTestId('sync-outcome').waitFor();
    expect(executed?.planId).toBe('plan-big');
    expect(executed?.excludedChangeIds).toHaveLength(N);
    checkErrors();
  });
});
