import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg } from '../jobs/support.js';
import {
  addPerson,
  launchBrowser,
  PASSWORD,
  screenshot,
  signIn,
  startConsole,
  watchConsoleErrors,
} from './support.js';

const DOMAIN = 'a11y.example';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
// axe's own bundle, evaluated through the DevTools protocol: the console's Content-Security-Policy
// (no inline scripts) would refuse it as a <script> tag, and rightly so.
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Every page route of the console, read from web/src/App.tsx: a route with a page (not a redirect,
 * not the `*` fallback), nested paths joined to their parent's. A new page added there and not
 * visited below fails the last test.
 */
function consoleRoutes(): string[] {
  const src = readFileSync(join(process.cwd(), 'web/src/App.tsx'), 'utf8');
  const routes = new Set<string>();
  const parents: string[] = [];
  const tags = /<Route\b|<\/Route>/g;
  for (let m = tags.exec(src); m; m = tags.exec(src)) {
    if (m[0] === '</Route>') {
      parents.pop();
      continue;
    }
    // The tag ends at the first `>` outside braces (element={<Page />} has one inside).
    let end = m.index;
    for (let depth = 0; end < src.length; end++) {
      const c = src[end];
      if (c === '{') depth++;
      else if (c === '}') depth--;
      else if (c === '>' && depth === 0) break;
    }
    const tag = src.slice(m.index, end + 1);
    tags.lastIndex = end + 1;
    const path = /\bpath="([^"]*)"/.exec(tag)?.[1];
    const parent = parents.at(-1) ?? '';
    const full = path === undefined ? parent : path.startsWith('/') ? path : `${parent}/${path}`;
    const element = /element=\{<(\w+)/.exec(tag)?.[1];
    const selfClosing = tag.endsWith('/>');
    if (selfClosing && element && element !== 'Navigate' && !full.endsWith('*')) routes.add(full);
    if (!selfClosing) parents.push(full);
  }
  return [...routes].sort();
}

type Violation = {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[]; html: string; failureSummary?: string }>;
};

/** axe-core's WCAG 2.1 A and AA rules on the page as it is now; every violation in a line per element. */
async function axe(page: Page): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG_TAGS)} } }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })) })))`,
  )) as Violation[];
  return violations.flatMap((v) =>
    v.nodes.map(
      (n) =>
        `${v.id} (${v.impact}): ${v.help} — ${n.target.join(' ')} — ${n.html.replace(/\s+/g, ' ').slice(0, 160)}${
          v.id === 'color-contrast' && n.failureSummary
            ? ` — ${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)}`
            : ''
        }`,
    ),
  );
}

/** The page has settled: its heading drawn, no spinner, no request in flight, no transition running. */
async function settled(page: Page, heading?: string | RegExp) {
  if (heading) await page.getByRole('heading', { name: heading, level: 1 }).first().waitFor();
  await page.waitForLoadState('networkidle');
  await page
    .getByRole('progressbar')
    .or(page.locator('.mantine-Loader-root'))
    .first()
    .waitFor({ state: 'detached' });
  // Mantine's transitions (menus, notifications) last up to 250 ms; axe measures colours as drawn.
  await page.waitForTimeout(300);
}

/**
 * What axe does not see: a badge whose word is cut to "ACT…", a header or page wider than the window
 * (a fixed header adds nothing to the page's scroll width, so its elements are measured).
 */
async function layout(page: Page): Promise<string[]> {
  // A string, as the other e2e files do: the tests' TypeScript has no DOM library.
  return page.evaluate(`(() => {
    const problems = [];
    for (const label of document.querySelectorAll('.mantine-Badge-label'))
      if (label.scrollWidth > label.clientWidth + 1) problems.push('badge cut: "' + label.textContent + '"');
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth > width)
      problems.push('page scrolls sideways: ' + document.documentElement.scrollWidth + ' > ' + width);
    for (const el of document.querySelectorAll('header *')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > width + 1)
        problems.push('header overflows: ' + el.tagName.toLowerCase() + ' "' + (el.textContent || '').slice(0, 30) + '" ends at ' + Math.round(r.right) + ' > ' + width);
    }
    return problems;
  })()`);
}

describe('accessibility: every page passes axe-core (WCAG 2.1 AA), keyboard paths', () => {
  let app: App;
  let baseUrl: string;
  let close: () => Promise<void>;
  let emu: Emulator;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let checkErrors: () => void;
  let orgId: string;
  let userId: string;
  let groupId: string;
  let runId: string;
  const visited = new Set<string>();
  const found: string[] = [];

  /** Runs axe on the page shown for `route` and records what it found under `label`. */
  const audit = async (route: string, label: string) => {
    visited.add(route);
    for (const line of await axe(page)) found.push(`[${label}] ${line}`);
    for (const line of await layout(page)) found.push(`[${label}] ${line}`);
  };
  const open = async (route: string, url: string, heading?: string | RegExp, label = route) => {
    await page.goto(`${baseUrl}${url}`);
    await settled(page, heading);
    await audit(route, label);
  };

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 97 });
    const ids = addUsers(emu, DOMAIN, 8);
    emu.tenant.addGroup({
      displayName: 'Sales',
      mail: `sales@${DOMAIN}`,
      mailEnabled: true,
      securityEnabled: false,
      members: ids.slice(0, 3),
    });
    ({ app, baseUrl, close } = await startConsole());
    orgId = await connectOrg(app, emu, DOMAIN, { frequencyHours: 6, removeUsers: true });
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    await addPerson(app, orgId, { email: `admin@${DOMAIN}`, role: 'org_admin', displayName: 'Ada Admin' });
    await addPerson(app, orgId, {
      email: `end@${DOMAIN}`,
      role: 'end_user',
      aliases: [`eve@${DOMAIN}`],
      displayName: 'Eve End',
    });
    // A first sync (a history run, synced users and a group), then Entra changes for the preview:
    // users to add and to remove, one to update, and one outside the organization's domains (skipped).
    runId = (await (await app.sync(orgId)).execute({ trigger: 'manual' }, 'e2e')).runId;
    addUsers(emu, DOMAIN, 4, 'new');
    addUsers(emu, 'elsewhere.example', 1, 'stray');
    emu.tenant.deleteUser(ids[7]!, { permanent: true });
    emu.tenant.updateUser(ids[6]!, { displayName: 'Renamed user' });
    const dir = await app.directory(orgId);
    const users = (await dir.listUsers({ search: `user0@${DOMAIN}`, limit: 1, offset: 0 })).items;
    userId = users[0]!.id;
    const groups = (await dir.listGroups({ limit: 10, offset: 0 })).items;
    groupId = groups.find((g) => g.name === 'Sales')!.id;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
    await emu?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    checkErrors = watchConsoleErrors(page);
    found.length = 0;
    return async () => {
      checkErrors();
      await context.close();
    };
  });
  const noViolations = () => {
    if (found.length) console.error(`axe-core violations:\n${found.join('\n')}`);
    expect(found).toEqual([]);
  };

  it('the sign-in page, empty and with a refusal', async () => {
    await open('/sign-in', '/sign-in', 'Sign in to entrasync');
    await signIn(page, baseUrl, `admin@${DOMAIN}`, 'not the password');
    await page.getByRole('alert').waitFor();
    await settled(page);
    await audit('/sign-in', '/sign-in refused');
    noViolations();
  });

  it("an org admin's pages, a preview on the Sync page", async () => {
    await signIn(page, baseUrl, `admin@${DOMAIN}`);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
    const o = `/orgs/${orgId}`;
    const r = '/orgs/:org';
    await open(`${r}/overview`, `${o}/overview`, DOMAIN);
    await page.getByRole('button', { name: /^Notifications/ }).click();
    await page.getByText('No unread notifications.').waitFor();
    await settled(page);
    await audit(`${r}/overview`, `${r}/overview notifications open`);
    await page.keyboard.press('Escape');
    await open(`${r}/users`, `${o}/users`, 'Users');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('dialog').waitFor();
    await settled(page);
    await audit(`${r}/users`, `${r}/users add-user dialog`);
    await page.keyboard.press('Escape');
    await open(`${r}/users/:id`, `${o}/users/${userId}`, /user 0/);
    await open(`${r}/groups`, `${o}/groups`, 'Groups');
    await open(`${r}/groups/:id`, `${o}/groups/${groupId}`, 'Sales');
    await open(`${r}/domains`, `${o}/domains`, 'Domains');
    await open(
      `${r}/settings/import-users/azure-ad`,
      `${o}/settings/import-users/azure-ad`,
      'Azure Active Directory',
    );
    await open(`${r}/settings/automation`, `${o}/settings/automation`, 'Automatic sync');
    await open(`${r}/history`, `${o}/history`, 'Sync history');
    await open(`${r}/history/:runId`, `${o}/history/${runId}`, /Sync run|Run/);
    await open(`${r}/api-tokens`, `${o}/api-tokens`, 'API tokens');
    await open(`${r}/audit`, `${o}/audit`, 'Audit log');

    const sync = `${r}/settings/users-groups/azure-ad-sync`;
    await open(
      sync,
      `${o}/settings/users-groups/azure-ad-sync`,
      'Azure Active Directory Sync',
      `${sync} empty`,
    );
    // Search by keyboard: focus moves to the results' heading, not back to the page's body.
    await page.getByRole('button', { name: 'Search', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('tab', { name: /Users to add\s*4/ }).waitFor();
    await expect
      .poll(() => page.evaluate('document.activeElement && document.activeElement.id'))
      .toBe('results-title');
    await settled(page);
    await audit(sync, `${sync} preview`);
    await page.getByRole('tab', { name: /Skipped/ }).click();
    await settled(page);
    await audit(sync, `${sync} preview, skipped`);
    await page.getByRole('button', { name: 'Execute', exact: true }).click();
    await page.getByRole('dialog').waitFor();
    await settled(page);
    await audit(sync, `${sync} confirmation`);
    noViolations();
  });

  it("an operator's pages and shell, and an end user's profile", async () => {
    await signIn(page, baseUrl, 'ops@service.test');
    await page.waitForURL('**/orgs');
    await settled(page, 'Organizations');
    await audit('/orgs', '/orgs');
    await open('/orgs/:org/overview', `/orgs/${orgId}/overview`, DOMAIN, 'operator /orgs/:org/overview');
    await open('/service-overview', '/service-overview', 'Service overview');
    await open('/me', '/me', undefined, 'operator /me');
    await context.clearCookies();
    await signIn(page, baseUrl, `end@${DOMAIN}`);
    await page.waitForURL('**/me');
    await page.getByText(`eve@${DOMAIN}`).waitFor();
    await settled(page);
    await audit('/me', 'end user /me');
    noViolations();
  });

  it('a skip link is the first Tab stop and moves focus to the page; focus is visible', async () => {
    await signIn(page, baseUrl, `admin@${DOMAIN}`);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
    await settled(page, DOMAIN);
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    await page.keyboard.press('Tab');
    const skip = page.getByRole('link', { name: 'Skip to main content' });
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe(
      'Skip to main content',
    );
    // Visible when focused (it may hide otherwise), with a focus outline.
    expect(await skip.isVisible()).toBe(true);
    const box = await skip.boundingBox();
    expect(box && box.width > 0 && box.height > 0 && box.y >= 0).toBe(true);
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');
    // The next Tab stop is in the page, not the header or the menu.
    await page.keyboard.press('Tab');
    expect(
      await page.evaluate("Boolean(document.activeElement && document.activeElement.closest('main'))"),
    ).toBe(true);

    // Every link and button reached by Tab shows a focus outline (:focus-visible).
    await page.evaluate('document.activeElement && document.activeElement.blur()');
    const unmarked: string[] = [];
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab');
      const mark = (await page.evaluate(`(() => {
        const el = document.activeElement;
        if (!el || el === document.body) return null;
        const s = getComputedStyle(el);
        const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return {
          name: el.tagName.toLowerCase() + ' ' + (el.getAttribute('aria-label') || el.textContent || '').trim().slice(0, 40),
          visible: el.matches(':focus-visible') && (outlined || s.boxShadow !== 'none'),
        };
      })()`)) as { name: string; visible: boolean } | null;
      if (mark && !mark.visible) unmarked.push(mark.name);
    }
    expect(unmarked).toEqual([]);
  });

  it('fits a 375-pixel phone: no horizontal scroll, badges not cut, and still no violations', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await signIn(page, baseUrl, `admin@${DOMAIN}`);
    await page.waitForURL(`**/orgs/${orgId}/overview`);
    const o = `/orgs/${orgId}`;
    const wide = () => page.evaluate('document.documentElement.scrollWidth - window.innerWidth');
    for (const [path, heading] of [
      ['overview', DOMAIN],
      ['users', 'Users'],
      ['history', 'Sync history'],
      ['settings/users-groups/azure-ad-sync', 'Azure Active Directory Sync'],
    ] as const) {
      await page.goto(`${baseUrl}${o}/${path}`);
      await settled(page, heading);
      expect({ path, overflow: await wide() }).toEqual({ path, overflow: 0 });
      await audit(`/orgs/:org/${path}`, `375px /orgs/:org/${path}`);
      await screenshot(page, `phone-${path.split('/').at(-1)}`);
    }
    // The menu, opened with the burger, is named and usable.
    await page.getByRole('button', { name: 'Toggle menu' }).click();
    await page.getByRole('link', { name: 'Users', exact: true }).waitFor();
    await settled(page);
    await audit('/orgs/:org/settings/users-groups/azure-ad-sync', '375px menu open');
    await screenshot(page, 'phone-menu');
    noViolations();
  });

  it('visited every page of the console', () => {
    expect([...visited].sort()).toEqual(consoleRoutes());
  });
});
