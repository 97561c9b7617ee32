import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { AutomationService } from '../../src/jobs/automation.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg, createJobsApp } from '../jobs/support.js';
import { entrasync } from '../support/cli.js';
import { DATABASES } from '../support/databases.js';

/** Where the database-less refusals would put data, were they not refused first. */
const dataDir = mkdtempSync(join(tmpdir(), 'entrasync-cli-'));

interface AutomationJson {
  safeguard: { percent: number; minUsers: number };
  webhook: { url: string | null; secretSet: boolean; undeliverable: string | null };
}

/**
 * The automatic-sync commands through the real CLI (a child process per call) on both
 * databases. Held runs are made in this process with a safeguard that always holds, so the
 * CLI decides real held runs without a scheduler.
 */
describe.each(DATABASES)('entrasync jobs CLI on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let env: Record<string, string>;
  const held: Record<'approve' | 'dismiss' | 'exclude', { orgId: string; runId: string }> = {} as never;
  const run = (...args: string[]) => entrasync(args, env);
  const runWith = (input: string, ...args: string[]) => entrasync(args, env, input);

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 53 });
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp(kind));
    env = { ...db.env, ENTRASYNC_ALLOW_CUSTOM_CLOUD: '1' };
    for (const [decision, users] of [
      ['approve', 3],
      ['dismiss', 2],
      ['exclude', 3],
    ] as const) {
      const domain = `${decision}.example`;
      addUsers(emu, domain, users);
      const orgId = await connectOrg(app, emu, domain, { frequencyHours: 6 });
      const result = await (await app.sync(orgId)).execute(
        {
          trigger: 'scheduled',
          safeguard: async () => ({ message: 'Held by the test.', removals: 0, syncedUsers: 0 }),
        },
        'test',
      );
      expect(result.status).toBe('held');
      held[decision] = { orgId, runId: result.runId };
    }
  });
  afterAll(async () => {
    await close?.();
    await emu?.close();
  });

  const usersOf = async (orgId: string) =>
    (await (await app.directory(orgId)).listUsers({ limit: 10, offset: 0 })).items.length;
  const statusOf = async (orgId: string, runId: string) => (await (await app.sync(orgId)).run(runId)).status;

  it('automation show prints the defaults', async () => {
    const shown = await run('automation', 'show', '--org', 'approve.example', '--json');
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json<AutomationJson>()).toEqual({
      safeguard: { percent: 10, minUsers: 10 },
      webhook: { url: null, secretSet: false, undeliverable: null },
    });
  });

  it('automation set changes only the flags given, and never prints the webhook secret', async () => {
    const secret = 'a-long-webhook-signing-secret-0123';
    const set = await runWith(
      secret,
      'automation',
      'set',
      '--org',
      'approve.example',
      '--safeguard-percent',
      '25',
      '--webhook-url',
      'https://hooks.example.com/entrasync',
      '--webhook-secret-stdin',
      '--json',
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.json<AutomationJson>()).toEqual({
      safeguard: { percent: 25, minUsers: 10 },
      webhook: { url: 'https://hooks.example.com/entrasync', secretSet: true, undeliverable: null },
    });
    const shown = await run('automation', 'show', '--org', held.approve.orgId);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('> 25 % of synced users and ≥ 10');
    expect(shown.stdout).toContain('https://hooks.example.com/entrasync (signed)');
    expect(set.stdout + shown.stdout + shown.stderr).not.toContain(secret);
  });

  // Independent refusals, side by side (each is a child process): bad input exits 2, one line.
  it.concurrent.each([
    [['automation', 'set', '--org', 'approve.example', '--safeguard-percent', '150'], /whole percentage/],
    [['automation', 'set', '--org', 'approve.example', '--safeguard-min-users', 'ten'], /whole number/],
    [['automation', 'set', '--org', 'approve.example', '--webhook-url', 'not a url'], /not a URL/],
    [['automation', 'show', '--org', 'nowhere.example'], /No organization/],
    [['sync', 'approve', '--org', 'approve.example', '--run', randomUUID()], /No sync run/],
    [['sync', 'dismiss', '--org', 'dismiss.example', '--run', randomUUID()], /No sync run/],
  ])('exits 2 with one line for bad input: %j', async (args, message) => {
    const result = await run(...args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });

  it('writes nothing when input is refused, and nothing was decided', async () => {
    const view = await new AutomationService(app, held.approve.orgId, true).get();
    expect(view.safeguard).toEqual({ percent: 25, minUsers: 10 });
    expect(await statusOf(held.approve.orgId, held.approve.runId)).toBe('held');
    expect(await statusOf(held.dismiss.orgId, held.dismiss.runId)).toBe('held');
  });

  it.concurrent('sync approve applies a held run, then refuses to decide it again', async () => {
    const { orgId, runId } = held.approve;
    const approved = await run('sync', 'approve', '--org', 'approve.example', '--run', runId, '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.json()).toMatchObject({ runId, status: 'succeeded', applied: { usersToAdd: 3 } });
    expect(await usersOf(orgId)).toBe(3);
    expect(await statusOf(orgId, runId)).toBe('succeeded');
    const again = await run('sync', 'approve', '--org', orgId, '--run', runId, '--json');
    expect(again.code).toBe(2);
    expect(again.json()).toMatchObject({ error: { code: 'conflict' } });
    expect(again.stderr).toMatch(/not held for review/);
  });

  it.concurrent('sync approve --exclude leaves the named changes of the held plan out', async () => {
    const { orgId, runId } = held.exclude;
    const sync = await app.sync(orgId);
    const planId = (await sync.run(runId)).planId!;
    const [left] = (await sync.planView(planId, { category: 'usersToAdd' })).page.items as { id: string }[];
    const typo = await run('sync', 'approve', '--org', orgId, '--run', runId, '--exclude', 'au_nope');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/au_nope is not a change of this plan/);
    const approved = await run(
      'sync',
      'approve',
      '--org',
      'exclude.example',
      '--run',
      runId,
      '--exclude',
      left!.id,
      '--json',
    );
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.json()).toMatchObject({ status: 'succeeded', excluded: 1, applied: { usersToAdd: 2 } });
    expect(await usersOf(orgId)).toBe(2);
  });

  it.concurrent('sync dismiss drops a held run: nothing applied', async () => {
    const { orgId, runId } = held.dismiss;
    const dismissed = await run('sync', 'dismiss', '--org', 'dismiss.example', '--run', runId);
    expect(dismissed.code, dismissed.stderr).toBe(0);
    expect(dismissed.stdout).toContain(`Run ${runId} dismissed: nothing applied.`);
    expect(await statusOf(orgId, runId)).toBe('dismissed');
    expect(await usersOf(orgId)).toBe(0);
  });
});

describe('entrasync worker and job commands without a database', () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it.concurrent('worker --help documents its flags and exits 0', async () => {
    const help = await entrasync(['worker', '--help'], {});
    expect(help.code).toBe(0);
    for (const flag of ['--scheduler', '--concurrency <n>', '--metrics-port <port>'])
      expect(help.stdout).toContain(flag);
  });

  it.concurrent('sync --help lists approve and dismiss', async () => {
    const help = await entrasync(['sync', '--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^\s+approve\b/m);
    expect(help.stdout).toMatch(/^\s+dismiss\b/m);
  });

  // Refused before any database is opened.
  it.concurrent.each([
    [['worker', '--concurrency', '0'], {}, /--concurrency must be a whole number/],
    [['worker'], { ENTRASYNC_JOB_TIMEOUT_SECONDS: 'soon' }, /ENTRASYNC_JOB_TIMEOUT_SECONDS must be a number/],
    [['worker'], { ENTRASYNC_WORKER_CONCURRENCY: '0' }, /ENTRASYNC_WORKER_CONCURRENCY must be a number/],
    [['sync', 'approve', '--org', 'contoso.com'], {}, /--run/],
    [['sync', 'dismiss', '--run', 'r1'], {}, /--org/],
  ])('exits 2 with one line for bad input: %j %j', async (args, env, message) => {
    const result = await entrasync(args, { DATABASE_URL: '', DATA_DIR: dataDir, ...env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});
