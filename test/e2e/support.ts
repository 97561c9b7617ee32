import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/http/server.js';
import { type App, openApp } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import { createTestDatabase } from '../support/databases.js';

export const PASSWORD = 'correct horse battery staple';
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** Debian's chromium, flags for a container without a sandbox or GPU, and no calls home. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * The real server (API + built console) over a fresh SQLite database, listening on a free port,
 * configured as shipped: `env` adds configuration variables (e.g. ENTRASYNC_DNS_SERVERS) to the
 * test database's, and a test that needs a permissive one (ENTRASYNC_ALLOW_CUSTOM_CLOUD=1) says so.
 */
export async function startConsole(options: { env?: Record<string, string> } = {}): Promise<{
  app: App;
  server: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}> {
  const test = await createConfiguredApp(options.env ?? {});
  const server = await buildServer(test.app);
  const address = await server.listen({ port: 0, host: '127.0.0.1' });
  return {
    app: test.app,
    server,
    baseUrl: address,
    async close() {
      await server.close();
      await test.close();
    },
  };
}

/** A migrated App over a fresh SQLite database, configured by `env` and nothing else. */
async function createConfiguredApp(
  env: Record<string, string>,
): Promise<{ app: App; close(): Promise<void> }> {
  const db = await createTestDatabase('sqlite');
  const app = await openApp(loadConfig({ ...db.env, ...env }, false));
  return {
    app,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** A user who can sign in with PASSWORD. */
export async function addPerson(
  app: App,
  orgId: string,
  user: {
    email: string;
    role: 'org_admin' | 'end_user' | 'silent_user';
    aliases?: string[];
    displayName?: string;
  },
) {
  const dir = await app.directory(orgId);
  const created = await dir.addUser(user, 'e2e');
  await dir.setPasswordHash(created.id, await hashPassword(PASSWORD), 'e2e');
  return created;
}

/** Signs in through the form with the keyboard alone: type, Tab, type, Enter. */
export async function signIn(page: Page, baseUrl: string, email: string, password = PASSWORD) {
  await page.goto(`${baseUrl}/sign-in`);
  const emailBox = page.getByLabel('Email address');
  await emailBox.waitFor();
  await emailBox.focus();
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
}

/** A full-page screenshot in test-artifacts/ (kept by CI, ignored by git). */
export async function screenshot(page: Page, name: string) {
  mkdirSync(ARTIFACTS, { recursive: true });
  // From the top, or the fixed header is drawn where the page happened to be scrolled to.
  await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Fails the test on any error the page logs (a broken request, an uncaught exception, a CSP refusal). */
export function watchConsoleErrors(page: Page): () => void {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // Refusals (4xx) are what some tests provoke, and the browser logs each; the tests check
    // what the page shows for them.
    if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) errors.push(m.text());
  });
  return () => expect(errors).toEqual([]);
}

/**
 * A browser whose page is signed in to `baseUrl` as `email` and has landed on its organization's
 * overview (`orgId`), console errors watched — how most console suites begin.
 */
export async function signedInOverview(
  baseUrl: string,
  email: string,
  orgId: string,
): Promise<{ browser: Browser; page: Page; checkErrors: () => void }> {
  const browser = await launchBrowser();
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  const checkErrors = watchConsoleErrors(page);
  await signIn(page, baseUrl, email);
  await page.waitForURL(`**/orgs/${orgId}/overview`);
  return { browser, page, checkErrors };
}
