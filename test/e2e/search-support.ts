import type { Page } from 'playwright-core';

/** The categories a plan page can be asked for, as the API names them. */
const PAGES = [
  'usersToAdd',
  'usersToUpdate',
  'usersToRemove',
  'groupsToAdd',
  'groupsToUpdate',
  'groupsToRemove',
  'skipped',
] as const;

/**
 * A stored plan read whole through the public API from the signed-in page
 * (`GET …/sync/plans/{planId}`, every category and page), in the shape /sync/preview answers.
 */
export async function readPlan<T = Record<string, unknown>>(page: Page, planId: string): Promise<T> {
  const orgPath = new URL(page.url()).pathname.match(/^\/orgs\/[^/]+/)?.[0];
  if (!orgPath) throw new Error(`readPlan: ${page.url()} is not an organization's page`);
  return (await page.evaluate(
    async ({ base, categories }) => {
      interface View {
        counts: Record<string, number>;
        page: { items: unknown[] };
        [field: string]: unknown;
      }
      let summary: Record<string, unknown> = {};
      const lists: Record<string, unknown[]> = {};
      for (const category of categories) {
        lists[category] = [];
        for (let offset = 0; ; offset += 500) {
          // Inline, no helper function: the test's transpiler may wrap named functions in code the page lacks.
          const url = `${base}?category=${category}&offset=${offset}&limit=500`;
          const response = await fetch(url, { headers: { accept: 'application/json' } });
          if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
          const view = (await response.json()) as View;
          summary = view;
          lists[category].push(...view.page.items);
          if (offset + 500 >= (view.counts[category] ?? 0)) break;
        }
      }
      const { page: _page, counts: _counts, ...rest } = summary;
      return { ...rest, ...lists };
    },
    { base: `/api/v1${orgPath}/sync/plans/${encodeURIComponent(planId)}`, categories: PAGES },
  )) as T;
}

/**
 * Presses Search on the Sync page, waits for the search (a job on the server) to make its
 * preview and the page to name it in the URL, and returns that preview read back whole.
 */
export async function searchForPreview<T = Record<string, unknown>>(
  page: Page,
): Promise<T & { planId: string }> {
  const before = new URL(page.url()).searchParams.get('plan');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.waitForURL((url) => {
    const plan = url.searchParams.get('plan');
    return plan !== null && plan !== before;
  });
  const planId = new URL(page.url()).searchParams.get('plan')!;
  return { ...(await readPlan<T>(page, planId)), planId };
}
