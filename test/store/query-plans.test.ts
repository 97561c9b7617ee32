import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import type { App } from '../../src/services/app.js';
import { parseHow } from '../../src/sync/policy.js';
import { connectToEmulator, createTestApp } from '../support/app.js';

/**
 * SQLite plans without statistics, and then prefers a primary key that covers a query, narrowed
 * to the organization alone, over a narrower index that does not cover it: a lookup by key
 * becomes a scan of all the organization's rows — the same answer, found in 50 ms at 100,000
 * users instead of microseconds. Every batched lookup a sync makes (`… in (…)`) must seek by the
 * keys it names. The statements are the ones the store really runs, captured on their way to
 * SQLite during a sync that changes users, aliases, members and removes objects.
 */
describe('the store on sqlite', () => {
  let app: App;
  let close: () => Promise<void>;
  let emu: Emulator;

  beforeAll(async () => {
    ({ app, close } = await createTestApp('sqlite'));
    emu = await startEmulator({ users: 40, groups: 8, seed: 7, domainPrefix: 'plans' });
  });
  afterAll(async () => {
    await close();
    await emu.close();
  });

  it('looks up by key with an index on that key, never by scanning the organization', async () => {
    const domains = emu.info.tenantDomains.slice(0, 2);
    const orgId = (await app.orgs.create({ name: 'Plans', domains }, 'test')).id;
    await connectToEmulator(app, orgId, emu, domains[0]!);
    const how = parseHow('all');
    const run = async () => (await app.sync(orgId)).execute({ trigger: 'manual', how }, 'test');
    expect((await run()).status).toBe('succeeded');
    const t = emu.tenant;
    const [gone, renamed, aliased] = t.listUsers().filter((u) => u.accountEnabled !== false && u.mail);
    t.deleteUser(gone!.id);
    t.updateUser(renamed!.id, { displayName: 'Renamed For Plans' });
    t.updateUser(aliased!.id, {
      proxyAddresses: [`SMTP:${aliased!.mail}`, `smtp:plans-alias@${domains[0]}`],
    });
    const group = t.listGroups()[0]!;
    t.addMember(group.id as string, renamed!.id);

    const prepare = vi.spyOn(SQLite.prototype, 'prepare');
    let statements: { db: SQLite.Database; sql: string }[];
    try {
      const changed = await run();
      expect(changed.applied.usersToRemove).toBe(1);
      statements = prepare.mock.calls.map(([sql], i) => ({
        db: prepare.mock.contexts[i] as SQLite.Database,
        sql,
      }));
    } finally {
      prepare.mockRestore();
    }
    const lookups = new Map<string, SQLite.Database>();
    for (const s of statements) if (/^select .* in \(/s.test(s.sql)) lookups.set(s.sql, s.db);
    // The sync reads members, claims and address holders by key: there is something to check.
    expect([...lookups.keys()].some((q) => q.includes('"source_claims"'))).toBe(true);
    expect([...lookups.keys()].some((q) => q.includes('"group_members"'))).toBe(true);
    const scans: string[] = [];
    for (const [query, db] of lookups) {
      const params = (query.match(/\?/g) ?? []).map(() => null);
      for (const step of db.prepare(`explain query plan ${query}`).all(...params) as { detail: string }[]) {
        // A scan, or a search narrowed by nothing but the organization.
        if (/^SCAN |\(org_id=\?\)$/.test(step.detail)) scans.push(`${step.detail}\n  in ${query}`);
      }
    }
    expect(scans).toEqual([]);
  });
});
