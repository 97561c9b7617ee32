import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { openStore } from '../../src/store/database.js';
import { migrateTo, migrateToLatest } from '../../src/store/migrations/index.js';
import { SourceRepository } from '../../src/store/source-repository.js';
import { indexSources } from '../../src/sync/focus.js';
import { claimKeys, type SourceGroup, type SourceSnapshot, type SourceUser } from '../../src/sync/source.js';
import { noSourceChanges, sourceChanges } from '../../src/sync/source-changes.js';
import { createTestDatabase, createTestStore, DATABASES, type TestDatabase } from '../support/databases.js';

/**
 * The source mirror in tables (src/store/source-repository.ts): the row changes of
 * sourceChanges() bring the mirror from one snapshot to the next exactly, on both databases, and
 * its answers by key (records, the claimants of an address, the groups listing an object) are
 * those of the snapshot indexed in memory; migration 0010 unpacks the mirrors stored as one blob
 * into rows, and 0012 indexes their addresses.
 */

/** mulberry32: a failing case replays from its seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n: number) => Math.floor(next() * n), chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof rng>;

const byId = (a: { externalId: string }, b: { externalId: string }) =>
  a.externalId < b.externalId ? -1 : a.externalId > b.externalId ? 1 : 0;

function user(r: Rng, id: string): SourceUser {
  const mail = r.chance(0.8) ? `u${r.int(1e6)}@contoso.com` : null;
  return {
    externalId: id,
    userPrincipalName: `${id}@contoso.onmicrosoft.com`,
    userType: r.chance(0.9) ? 'Member' : r.chance(0.5) ? 'Guest' : null,
    accountEnabled: r.chance(0.8),
    mail,
    proxyAddresses: mail
      ? [`SMTP:${mail}`, ...(r.chance(0.5) ? [`smtp:alias${r.int(1e6)}@contoso.com`] : [])]
      : [],
    givenName: r.chance(0.7) ? `Given ${r.int(100)}` : null,
    // Text the database must keep exactly: quotes, backslashes, tabs and line breaks (which
    // PostgreSQL's COPY text format gives a meaning), its null marker \N, non-Latin letters.
    surname: r.chance(0.7) ? `O'Brien \\ "Łukasz"\t\r\n\\N ${r.int(100)} 名` : null,
    displayName: r.chance(0.9) ? `User ${r.int(1e4)}` : null,
    mailbox: r.chance(0.2) ? 'shared' : r.chance(0.2) ? 'user' : null,
  };
}

function group(r: Rng, id: string, userIds: string[], groupIds: string[]): SourceGroup {
  const pick = (ids: string[], p: number) => ids.filter(() => r.chance(p)).sort();
  return {
    externalId: id,
    displayName: `Group ${r.int(1e4)}`,
    mail: r.chance(0.6) ? `g${r.int(1e6)}@contoso.com` : null,
    mailEnabled: r.chance(0.6),
    securityEnabled: r.chance(0.5),
    groupTypes: r.chance(0.3) ? ['Unified'] : [],
    proxyAddresses: r.chance(0.5) ? [`SMTP:g${r.int(1e6)}@contoso.com`] : [],
    memberUserIds: pick(userIds, 0.3),
    memberGroupIds: pick(
      groupIds.filter((g) => g !== id),
      0.2,
    ),
  };
}

function tenant(r: Rng, users: number, groups: number): SourceSnapshot {
  const us = Array.from({ length: users }, (_, i) => user(r, `u-${i}-${r.int(1e6)}`));
  const groupIds = Array.from({ length: groups }, (_, i) => `g-${i}-${r.int(1e6)}`);
  const ids = us.map((u) => u.externalId);
  return {
    users: us.sort(byId),
    groups: groupIds.map((id) => group(r, id, ids, groupIds)).sort(byId),
  };
}

/** A round of changes: records changed, objects added and deleted, members moved. */
function mutate(r: Rng, s: SourceSnapshot, round: number): SourceSnapshot {
  const users = s.users
    .filter(() => !r.chance(0.1))
    .map((u) => (r.chance(0.2) ? { ...user(r, u.externalId), userPrincipalName: u.userPrincipalName } : u));
  for (let i = 0; i < 3; i++) users.push(user(r, `u-new-${round}-${i}-${r.int(1e6)}`));
  const ids = users.map((u) => u.externalId);
  const groups = s.groups
    .filter(() => !r.chance(0.1))
    .map((g) => {
      if (!r.chance(0.4)) return g;
      const kept = g.memberUserIds.filter((id) => ids.includes(id) && !r.chance(0.3));
      const added = ids.filter((id) => !kept.includes(id) && r.chance(0.1));
      return {
        ...g,
        displayName: r.chance(0.5) ? `Renamed ${round}` : g.displayName,
        memberUserIds: [...kept, ...added].sort(),
      };
    });
  const groupIds = groups.map((g) => g.externalId);
  // Snapshots are never changed in place (the connector builds new records): a group losing a
  // nested group is a new record.
  const nested = groups.map((g) =>
    g.memberGroupIds.every((id) => groupIds.includes(id))
      ? g
      : { ...g, memberGroupIds: g.memberGroupIds.filter((id) => groupIds.includes(id)) },
  );
  nested.push(group(r, `g-new-${round}-${r.int(1e6)}`, ids, groupIds));
  return { users: users.sort(byId), groups: nested.sort(byId) };
}

/** The mirror's answers by key are the snapshot's, indexed in memory (src/sync/focus.ts indexSources). */
async function expectKeyedAnswers(mirror: SourceRepository, snapshot: SourceSnapshot, what: string) {
  const index = indexSources([snapshot]);
  const all = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
  const some = <T extends { externalId: string }>(list: T[]) => list.filter((_, i) => i % 3 === 0);
  const users = some(snapshot.users);
  const groups = some(snapshot.groups);
  expect(await mirror.users([...users.map((u) => u.externalId), 'not-mirrored']), what).toEqual(users);
  expect(await mirror.groups(groups.map((g) => g.externalId)), what).toEqual(groups);
  const keys = [...new Set([...snapshot.users, ...snapshot.groups].flatMap(claimKeys))];
  const claimed = (await mirror.claimants(keys)).map((c) => `${c.key} ${c.type[0]}${c.externalId}`).sort();
  expect(claimed, what).toEqual(keys.flatMap((k) => all(index.claims.get(k)).map((n) => `${k} ${n}`)).sort());
  const ids = users.map((u) => u.externalId);
  const listing = (await mirror.listers('user', ids)).map((l) => `${l.memberId} ${l.groupId}`).sort();
  expect(listing, what).toEqual(
    ids.flatMap((id) => all(index.userListers.get(id)).map((g) => `${id} ${g}`)).sort(),
  );
  const nested = groups.map((g) => g.externalId);
  const nestedListing = (await mirror.listers('group', nested))
    .map((l) => `${l.memberId} ${l.groupId}`)
    .sort();
  expect(nestedListing, what).toEqual(
    nested.flatMap((id) => all(index.groupListers.get(id)).map((g) => `${id} ${g}`)).sort(),
  );
}

describe.each(DATABASES)('the source mirror on %s', (kind) => {
  const opened: { store: Store; db: TestDatabase }[] = [];
  afterAll(async () => {
    for (const { store, db } of opened) {
      await store.close();
      await db.drop();
    }
  });

  async function organization(store: Store, id: string): Promise<void> {
    await sql`insert into organizations (id, name, created_at) values (${id}, ${id}, ${new Date().toISOString()})`.execute(
      store.db,
    );
  }

  it('follows a snapshot round after round by row changes, touching only what changed', async () => {
    const t = await createTestStore(kind);
    opened.push(t);
    await organization(t.store, 'org-a');
    await organization(t.store, 'org-b');
    const mirror = new SourceRepository(t.store.db, t.store.dialect, 'org-a');
    const other = new SourceRepository(t.store.db, t.store.dialect, 'org-b');
    const r = rng(11);
    let previous: SourceSnapshot | null = null;
    let snapshot = tenant(r, 60, 12);
    const bystander = tenant(r, 10, 3);
    await other.write(sourceChanges(null, bystander));
    for (let round = 0; round < 8; round++) {
      const changes = sourceChanges(previous, snapshot);
      await t.store.db.transaction().execute((trx) => mirror.with(trx).write(changes));
      expect(await mirror.load(), `round ${round}`).toEqual(snapshot);
      await expectKeyedAnswers(mirror, snapshot, `round ${round}`);
      // Another organization's rows are never touched.
      expect(await other.load()).toEqual(bystander);
      if (previous) {
        // Only the changed rows: never the whole tenant again.
        expect(changes.users.length).toBeLessThan(snapshot.users.length / 2);
      }
      previous = snapshot;
      snapshot = mutate(r, snapshot, round);
    }
    expect(noSourceChanges(sourceChanges(previous, previous!))).toBe(true);
  });

  it('writes a tenant larger than one statement carries, and removes it again', async () => {
    const t = await createTestStore(kind);
    opened.push(t);
    await organization(t.store, 'org-big');
    const mirror = new SourceRepository(t.store.db, t.store.dialect, 'org-big');
    // More rows of each table than one bulk statement holds on either database (SQLite: 1,500
    // parameters; PostgreSQL: 20,000 rows), with a tail batch.
    const columns = { users: 3, members: 4 };
    const perStatement = Math.max(
      t.store.dialect.bulk.maxRows(columns.users),
      t.store.dialect.bulk.maxRows(columns.members),
    );
    const r = rng(3);
    const users = Array.from({ length: perStatement + 7 }, (_, i) =>
      user(r, `big-u-${String(i).padStart(6, '0')}`),
    );
    const ids = users.map((u) => u.externalId);
    const big: SourceGroup = {
      ...group(r, 'big-g', [], []),
      memberUserIds: [...ids].sort(),
      memberGroupIds: [],
    };
    const snapshot = { users, groups: [big] };
    await t.store.db.transaction().execute((trx) => mirror.with(trx).write(sourceChanges(null, snapshot)));
    expect(await mirror.counts()).toEqual({ users: users.length, groups: 1 });
    expect(await mirror.load()).toEqual(snapshot);
    // Asked by id, the group comes with all its members (more than one statement's rows).
    expect(await mirror.groups(['big-g'])).toEqual([big]);
    const emptied = { users: [], groups: [] };
    await t.store.db.transaction().execute((trx) => mirror.with(trx).write(sourceChanges(snapshot, emptied)));
    expect(await mirror.load()).toEqual(emptied);
  });

  it('a bulk insert that fails writes nothing, and its connection serves the next one', async () => {
    // One connection, so the write after the failure runs where the failed COPY (PostgreSQL) ran.
    const db = await createTestDatabase(kind);
    const store = openStore(db.location, { poolSize: 1 });
    await migrateToLatest(store);
    opened.push({ store, db });
    await organization(store, 'org-fail');
    const mirror = new SourceRepository(store.db, store.dialect, 'org-fail');
    const r = rng(5);
    const snapshot = tenant(r, 30, 4);
    // Written as new twice in one transaction: the second insert of the same users breaks the key.
    const twice = sourceChanges(null, snapshot);
    const failed = store.db.transaction().execute(async (trx) => {
      await mirror.with(trx).write(twice);
      await mirror.with(trx).write(twice);
    });
    await expect(failed).rejects.toSatisfy((error: unknown) => store.dialect.isUniqueViolation(error));
    expect(await mirror.counts()).toEqual({ users: 0, groups: 0 });
    await store.db.transaction().execute((trx) => mirror.with(trx).write(twice));
    expect(await mirror.load()).toEqual(snapshot);
  });

  it('unpacks a mirror stored as one blob into rows when migrating (0010), keeping cursor and basis, and indexes its addresses (0012)', async () => {
    const db = await createTestDatabase(kind);
    const store = openStore(db.location);
    opened.push({ store, db });
    await migrateTo(store, '0009_include_guests');
    await organization(store, 'org-old');
    const snapshot = tenant(rng(5), 30, 6);
    const cursor = JSON.stringify({ usersDeltaLink: 'https://u', groupsDeltaLink: 'https://g' });
    await sql`insert into sync_state (org_id, snapshot, cursor, basis, updated_at)
      values ('org-old', ${gzipSync(JSON.stringify(snapshot))}, ${cursor}, ${'{"policy":"p"}'}, ${new Date().toISOString()})`.execute(
      store.db,
    );
    await migrateToLatest(store);
    const mirror = new SourceRepository(store.db, store.dialect, 'org-old');
    expect(await mirror.load()).toEqual(snapshot);
    // 0012 indexed the addresses of the mirror 0010 unpacked.
    await expectKeyedAnswers(mirror, snapshot, 'migrated');
    const state = await sql<{ cursor: string; basis: string }>`select * from sync_state`.execute(store.db);
    expect(state.rows).toEqual([expect.objectContaining({ cursor, basis: '{"policy":"p"}' })]);
    expect(Object.keys(state.rows[0]!)).not.toContain('snapshot');
  });
});
