import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchForPreview } from './search-support.js';
import { launchBrowser, screenshot, signIn, watchConsoleErrors } from './support.js';

/** What `serve --demo` prints: where it listens, and the demo admin's sign-in. */
const LISTENING = /entrasync is listening on (http:\/\/\S+)/;
const DEMO_ADMIN = /Sign in as its administrator with\n\s+address:\s+(\S+)\n\s+password:\s+(\S+)/;

/**
 * `npm start` on a fresh machine: `entrasync serve --demo` over an empty data folder prints the
 * demo admin's sign-in; with it, a newcomer signs in and searches the demo tenant. Run through
 * tsx rather than dist/ so the test needs no server build (the console build is the global setup's).
 */
describe('npm start: the demo', () => {
  let dataDir: string;
  let child: ChildProcess;
  let output = '';
  let baseUrl: string;
  let admin: { email: string; password: string };
  let browser: Browser;
  let page: Page;
  let checkErrors: () => void;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'entrasync-demo-'));
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    // The demo's own choices only: SQLite in the data folder, the demo on.
    delete env.DATABASE_URL;
    delete env.ENTRASYNC_DEMO;
    delete env.PORT;
    child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--demo', '--port', '0'],
      {
        cwd: process.cwd(),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`serve --demo printed no sign-in:\n${output}`)),
        90_000,
      );
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`serve --demo exited with ${code}:\n${output}`));
      });
      // Not a terminal, so the logs are JSON lines on stdout and the first start's sign-in frame
      // is on stderr (never in a log line): read both.
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        const listening = LISTENING.exec(output);
        const demo = DEMO_ADMIN.exec(output);
        if (listening?.[1] && demo?.[1] && demo[2]) {
          clearTimeout(timer);
          baseUrl = listening[1];
          admin = { email: demo[1], password: demo[2] };
          resolve();
        }
      };
      child.stdout?.on('data', read);
      child.stderr?.on('data', read);
    });
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    checkErrors = watchConsoleErrors(page);
  });
  afterAll(async () => {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in as the printed demo admin, searches, and sees the counts', async () => {
    await signIn(page, baseUrl, admin.email, admin.password);
    await page.waitForURL('**/overview');
    await page.getByRole('link', { name: 'Users & Groups → Azure Active Directory Sync' }).click();
    const plan = await searchForPreview<{ usersToAdd: unknown[]; groupsToAdd: unknown[] }>(page);
    expect(plan.usersToAdd.length).toBeGreaterThan(100);
    expect(plan.groupsToAdd.length).toBeGreaterThan(5);
    await page.getByRole('tab', { name: new RegExp(`Users to add\\s*${plan.usersToAdd.length}`) }).waitFor();
    await page
      .getByRole('tab', { name: new RegExp(`Groups to add\\s*${plan.groupsToAdd.length}`) })
      .waitFor();
    await screenshot(page, 'demo-sync-preview');
    checkErrors();
  });
});
