import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderProgress, withRead } from '../../src/cli/progress.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg, createJobsApp, waitFor } from '../jobs/support.js';
import { DATABASES } from '../support/databases.js';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

describe('the progress line of sync --dry-run', () => {
  const start = { phase: 'read' as const, read: {} };

  it('counts pages and objects per collection while reading', () => {
    let state = withRead(start, { phase: 'users', pages: 12, objectsRead: 2400 });
    state = withRead(state, { phase: 'groups', pages: 1, objectsRead: 150 });
    expect(renderProgress(state, 120)).toBe('reading Entra · users 2,400 (12 pages) · groups 150 (1 page)');
  });

  it('draws a bar with a percentage when the count to expect is known', () => {
    const state = withRead(withRead(start, { phase: 'users', pages: 3, objectsRead: 600 }), {
      phase: 'mailboxes',
      pages: 2,
      objectsRead: 40,
      expected: 80,
    });
    expect(renderProgress(state, 120)).toBe(
      'reading Entra · users 600 (3 pages) · mailboxes ██████░░░░░░ 50% 40/80 (2 pages)',
    );
    // An estimate passed: the bar stays full, the numbers tell.
    const past = withRead(start, { phase: 'users', pages: 9, objectsRead: 130, expected: 100 });
    expect(renderProgress(past, 120)).toBe('reading Entra · users ████████████ 100% 130/100 (9 pages)');
  });

  it('says planning (and storing) after the read, with what was read', () => {
    const read = withRead(start, { phase: 'users', pages: 5, objectsRead: 1000 });
    expect(renderProgress({ ...read, phase: 'plan' }, 80)).toBe('users 1,000 · planning…');
    expect(renderProgress({ ...read, phase: 'store' }, 80)).toBe('users 1,000 · storing the preview…');
  });

  it('never fills the last column of a narrow terminal (a wrapped line cannot be rewritten)', () => {
    const state = withRead(start, { phase: 'users', pages: 120, objectsRead: 24_000 });
    const line = renderProgress(state, 20);
    expect(line).toBe('reading Entra · us…');
    expect(line.length).toBe(19);
    expect(renderProgress(state, 0)).toBe('');
  });
});

/** `entrasync sync --dry-run` stopped with Ctrl-C (SIGINT), on both databases. */
describe.each(DATABASES)('Ctrl-C during sync --dry-run on %s', (kind) => {
  const domain = 'ctrlc.example';
  let emu: Emulator;
  let app: App;
  let env: Record<string, string>;
  let close: () => Promise<void>;
  let orgId: string;

  beforeAll(async () => {
    // A slow tenant of many small pages: the read lasts long enough to be interrupted.
    emu = await startEmulator({ users: 0, groups: 0, seed: 74, deltaPageSize: 5, latencyMs: 300 });
    addUsers(emu, domain, 60);
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp(kind));
    env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' };
    orgId = await connectOrg(app, emu, domain, { frequencyHours: null });
  });
  afterAll(async () => {
    await close?.();
    await emu?.close();
  });

  it('stops the read, stores nothing, says so and exits 130; --json output stays empty', async () => {
    emu.resetStats();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'sync', '--org', domain, '--dry-run', '--json'],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    // The read has begun once the tenant sees a delta request.
    await waitFor(
      async () => Object.keys(emu.stats().byPath).some((path) => path.includes('delta')),
      60_000,
      'the CLI to start reading',
    );
    child.kill('SIGINT');
    expect(await exited, stderr).toBe(130);
    expect(stderr).toContain('Cancelled: nothing was stored.');
    expect(stdout).toBe('');
    const plans = await app.store.db
      .selectFrom('sync_plans')
      .select('id')
      .where('org_id', '=', orgId)
      .execute();
    expect(plans).toEqual([]);
    // It stopped at a page boundary: well short of the 12 pages of users.
    expect(emu.stats().requests).toBeLessThan(12);
  });
});
