import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { type App, openApp } from '../../src/services/app.js';
import { entrasync } from '../support/cli.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const dateIn = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString().slice(0, 10);
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

interface Page {
  total: number;
  items: { name: string; attention: string; reasons: string[]; heldRunId: string | null }[];
}

/** `entrasync org list --health` through the real CLI, on both databases. */
describe.each(DATABASES)('entrasync org list --health on %s', (kind) => {
  let db: TestDatabase;
  let app: App;
  const run = (...args: string[]) => entrasync(args, db.env);

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    app = await openApp(loadConfig({ ...db.env }));
    const connect = (orgId: string, secretExpiresAt: string) =>
      app.store.db
        .insertInto('entra_settings')
        .values({
          org_id: orgId,
          tenant: 'tenant.onmicrosoft.com',
          client_id: '00000000-0000-0000-0000-000000000000',
          secret_ciphertext: 'sealed',
          secret_last4: 'abcd',
          secret_expires_at: secretExpiresAt,
          default_role: 'end_user',
          what: '{}',
          how: '{}',
          frequency_hours: 6,
          cloud: 'global',
          authority_host: null,
          graph_url: null,
          ca_pem: null,
          endpoints_by_operator: false,
          include_guests: false,
          blocked_mailboxes: 'deliver',
          updated_at: hoursAgo(50),
        })
        .execute();
    const runOf = (orgId: string, id: string, status: string, hours: number) =>
      app.store.db
        .insertInto('sync_runs')
        .values({
          org_id: orgId,
          id,
          trigger: 'automatic',
          actor: 'scheduler',
          plan_id: null,
          status,
          started_at: hoursAgo(hours),
          finished_at: hoursAgo(hours - 0.1),
          summary: '{}',
          detail: null,
        })
        .execute();
    const create = async (name: string, domain: string) =>
      (await app.orgs.create({ name, domains: [domain] }, 'test')).id;
    const healthy = await create('Apex Healthy', 'apex.example');
    await connect(healthy, dateIn(200));
    await runOf(healthy, 'h1', 'succeeded', 2);
    const held = await create('Beacon Held', 'beacon.example');
    await connect(held, dateIn(200));
    await runOf(held, 'b1', 'succeeded', 9);
    await runOf(held, 'b2', 'held', 1);
    const failing = await create('Cobalt Failing', 'cobalt.example');
    await connect(failing, dateIn(5));
    await runOf(failing, 'c1', 'failed', 1);
    await create('Dune Never', 'dune.example');
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('prints one line per organization, most urgent first, with its facts', { timeout: 90_000 }, async () => {
    const listed = await run('org', 'list', '--health');
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^attention\s+name\s+id\s+domains\s+connected\s+lastRun\s+lastSuccess\s+key/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['failing', 'Cobalt Failing'],
      ['held', 'Beacon Held'],
      ['never_synced', 'Dune Never'],
      ['ok', 'Apex Healthy'],
    ]);
    // The facts: the key expiring besides the failure, the held run, never connected.
    expect(lines[1]).toMatch(/failed \d{4}-\d\d-\d\d .*\(5 d\).*every 6 h.*key_expiring, never_synced/);
    expect(lines[2]).toMatch(/held run b2/);
    expect(lines[3]).toMatch(/\bno\s+never\s+never\b/);
  });

  it('--json gives the API page; --sort, --needs and paging narrow it', { timeout: 90_000 }, async () => {
    const all = await run('org', 'list', '--health', '--json');
    expect(all.code, all.stderr).toBe(0);
    const page = all.json<Page>();
    expect(page.total).toBe(4);
    expect(page.items[0]).toMatchObject({
      name: 'Cobalt Failing',
      attention: 'failing',
      reasons: ['failing', 'key_expiring', 'never_synced'],
    });
    expect(page.items[1]).toMatchObject({ name: 'Beacon Held', heldRunId: 'b2' });
    const byName = await run(
      'org',
      'list',
      '--health',
      '--sort',
      'name',
      '--order',
      'desc',
      '--limit',
      '2',
      '--json',
    );
    expect(byName.json<Page>().items.map((i) => i.name)).toEqual(['Dune Never', 'Cobalt Failing']);
    const needs = await run('org', 'list', '--health', '--needs', 'key');
    expect(needs.code).toBe(0);
    expect(needs.stdout).toMatch(/Cobalt Failing/);
    expect(needs.stdout).not.toMatch(/Beacon|Apex|Dune/);
  });

  it('refuses an unknown sort or need, and health flags without --health (exit 2)', {
    timeout: 90_000,
  }, async () => {
    const sort = await run('org', 'list', '--health', '--sort', 'size');
    expect(sort.code).toBe(2);
    expect(sort.stderr).toMatch(/"size".*attention, name, lastSuccess/);
    const alone = await run('org', 'list', '--needs', 'held');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--needs goes with --health/);
    // Without --health, the list is as it was.
    const plain = await run('org', 'list');
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^id\s+name\s+domains\s+licensedSeats/);
  });
});
