import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { addUsers, connectOrg, createJobsApp } from '../jobs/support.js';
import { entrasync } from '../support/cli.js';
import { DATABASES, type DatabaseKind } from '../support/databases.js';

/**
 * The README's promise, through the real CLI: a command whose result reports a failure — a broken
 * connection, a failed sync run, an approval that could not be applied — prints that result and
 * exits 1, so cron jobs and monitoring can tell; the same commands exit 0 when all is well.
 */
describe.each(DATABASES)('entrasync exit codes on %s', (kind) => {
  let emu: Emulator;
  let app: App;
  let close: () => Promise<void>;
  let env: Record<string, string>;
  const run = (...args: string[]) => entrasync(args, env);

  beforeAll(async () => {
    emu = await startEmulator({ users: 0, groups: 0, seed: 57 });
    let db: Awaited<ReturnType<typeof createJobsApp>>['db'];
    ({ app, close, db } = await createJobsApp(kind));
    env = db.env;
    addUsers(emu, 'works.example', 2);
  });
  afterAll(async () => {
    await close?.();
    await emu?.close();
  });

  const appNamed = (name: string) => emu.info.apps.find((a) => a.displayName === name)!;

  it('entra test and sync exit 0 when the connection works', async () => {
    await connectOrg(app, emu, 'works.example', { frequencyHours: null });
    const test = await run('entra', 'test', '--org', 'works.example', '--json');
    expect(test.code, test.stderr).toBe(0);
    expect(test.json<{ ok: boolean }>().ok).toBe(true);
    const synced = await run('sync', '--org', 'works.example', '--json');
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.json<{ status: string }>().status).toBe('succeeded');
  });

  it('entra test exits 1 when the connection does not work, after printing why', async () => {
    await connectOrg(app, emu, 'badkey.example', { frequencyHours: null, secret: 'not-the-secret-value' });
    const text = await run('entra', 'test', '--org', 'badkey.example');
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('The connection does not work yet');
    expect(text.stdout).toContain('AADSTS7000215');
    expect(text.stderr).toBe('');
    const json = await run('entra', 'test', '--org', 'badkey.example', '--json');
    expect(json.code).toBe(1);
    const report = json.json<{ ok: boolean; steps: { step: string; code?: string }[] }>();
    expect(report.ok).toBe(false);
    expect(report.steps[0]).toMatchObject({ step: 'token', code: 'invalid_secret' });
  });

  it('sync exits 1 when the run ends failed', async () => {
    const orgId = await connectOrg(app, emu, 'noconsent.example', { frequencyHours: null });
    const noConsent = appNamed('entrasync-no-consent');
    await app
      .entraSettings(orgId)
      .set(
        { clientId: noConsent.clientId, clientSecret: noConsent.clientSecret },
        { allowCustomEndpoints: true, byOperator: true },
        'test',
      );
    const synced = await run('sync', '--org', 'noconsent.example', '--json');
    expect(synced.code).toBe(1);
    expect(synced.json<{ status: string; errors: { code: string }[] }>()).toMatchObject({
      status: 'failed',
      errors: [{ code: 'permission_denied' }],
    });
  });

  it('sync approve exits 1 when the held run cannot be applied', async () => {
    addUsers(emu, 'held.example', 3);
    const orgId = await connectOrg(app, emu, 'held.example', { frequencyHours: 6 });
    const held = await (await app.sync(orgId)).execute(
      {
        trigger: 'scheduled',
        safeguard: async () => ({ message: 'Held by the test.', removals: 0, syncedUsers: 0 }),
      },
      'test',
    );
    expect(held.status).toBe('held');
    // The database refuses new users, as a full disk or a lost connection would mid-apply.
    await refuseUserInserts(app, kind);
    const approved = await run('sync', 'approve', '--org', 'held.example', '--run', held.runId, '--json');
    expect(approved.code).toBe(1);
    expect(approved.json<{ status: string }>().status).toBe('failed');
    expect((await (await app.sync(orgId)).run(held.runId)).status).toBe('failed');
  });
});

/** Makes every insert into `users` fail, through the database itself. */
async function refuseUserInserts(app: App, kind: DatabaseKind): Promise<void> {
  const db = app.store.db;
  if (kind === 'sqlite') {
    await sql`create trigger refuse_users before insert on users begin select raise(abort, 'refused by the test'); end`.execute(
      db,
    );
    return;
  }
  await sql`create function refuse_users() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`.execute(
    db,
  );
  await sql`create trigger refuse_users before insert on users for each row execute function refuse_users()`.execute(
    db,
  );
}
