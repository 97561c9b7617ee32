import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Group, User } from '../../src/directory/model.js';
import type { App } from '../../src/services/app.js';
import { inTransaction } from '../../src/store/database.js';
import { DirectoryRepository } from '../../src/store/directory-repository.js';
import { applySteps, type WriterContext } from '../../src/store/sync-writer.js';
import type {
  AddGroupChange,
  AddUserChange,
  PlannedMember,
  UpdateGroupChange,
  UpdateUserChange,
} from '../../src/sync/changes.js';
import type { ApplyStep } from '../../src/sync/select.js';
import { createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

/**
 * The sync writer in bulk, through its public API on both databases: more rows of every kind
 * than one of the dialect's statements carries (`DialectInfo.bulk.maxRows`), so every batch
 * boundary is crossed — user and group inserts, their addresses, memberships added and removed,
 * and mixed updates of addresses, aliases, status and names — and every resulting row checked
 * against what the changes say.
 */
describe.each(DATABASES)('sync writer in bulk on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  let orgId: string;
  let repo: DirectoryRepository;
  let ids = 0;
  const domain = 'bulk.example';

  /** Runs steps the way SyncService does: one transaction, the directory as loaded before it. */
  const apply = async (steps: ApplyStep[], now: string) => {
    const { users, groups } = await repo.loadAll();
    const ctx: WriterContext = {
      dialect: app.store.dialect,
      orgId,
      newId: () => `id-${kind}-${++ids}`,
      now,
      users: new Map(users.map((u) => [u.id, u])),
      groups: new Map(groups.map((g) => [g.id, g])),
    };
    await inTransaction(app.store, (trx) => applySteps(trx, steps, ctx));
  };
  const steps = (parts: Partial<Record<ApplyStep['step'], unknown[]>>): ApplyStep[] =>
    (
      [
        'create_groups',
        'add_users',
        'update_users',
        'update_groups',
        'set_memberships',
        'remove_groups',
        'remove_users',
      ] as const
    ).map((step) => ({ step, changes: parts[step] ?? [] }) as ApplyStep);

  beforeAll(async () => {
    ({ app, close } = await createTestApp(kind));
    orgId = (await app.orgs.create({ name: 'Bulk', domains: [domain] }, 'test')).id;
    repo = new DirectoryRepository(app.store.db, orgId);
  });
  afterAll(() => close());

  it('writes and updates more rows than one statement carries, row for row', async () => {
    const bulk = app.store.dialect.bulk;
    // One more batch than a statement of each kind holds (the widest statement decides least).
    const userCount = bulk.maxRows(10) + 7; // a user update carries 10 columns
    const groupCount = bulk.maxRows(5) + 3; // a group update carries 5
    const at = (n: number) => `u${n}@${domain}`;
    const user = (n: number): User => byExt.users.get(`eu${n}`)!;
    const group = (n: number): Group => byExt.groups.get(`eg${n}`)!;
    const member = (type: 'user' | 'group', externalId: string, id: string | null = null): PlannedMember => ({
      type,
      id,
      externalId,
      label: externalId,
    });

    // A first sync: users with one or two aliases, groups with three user members and the previous
    // group nested (memberships: 4 a group, beyond one statement's rows).
    const addUsers: AddUserChange[] = [];
    for (let n = 0; n < userCount; n++) {
      addUsers.push({
        kind: 'add_user',
        id: `add-u${n}`,
        externalId: `eu${n}`,
        address: at(n),
        name: `User ${n}`,
        user: {
          email: at(n),
          aliases: n % 2 === 0 ? [`a${n}@${domain}`] : [`a${n}@${domain}`, `b${n}@${domain}`],
          firstName: `First${n}`,
          lastName: `Last${n}`,
          displayName: `User ${n}`,
          status: n % 7 === 0 ? 'inactive' : 'active',
          mailbox: n % 11 === 0 ? 'shared' : null,
          role: 'end_user',
          source: 'entra',
          externalId: `eu${n}`,
        },
      });
    }
    const addGroups: AddGroupChange[] = [];
    for (let n = 0; n < groupCount; n++) {
      const members = [0, 1, 2].map((k) => member('user', `eu${(n * 3 + k) % userCount}`));
      if (n > 0) members.push(member('group', `eg${n - 1}`));
      addGroups.push({
        kind: 'add_group',
        id: `add-g${n}`,
        externalId: `eg${n}`,
        address: n % 3 === 0 ? null : `g${n}@${domain}`,
        name: `Group ${n}`,
        membersLeftOut: 0,
        group: {
          name: `Group ${n}`,
          kind: n % 2 === 0 ? 'distribution' : 'security',
          email: n % 3 === 0 ? null : `g${n}@${domain}`,
          aliases: n % 3 === 1 ? [`ga${n}@${domain}`] : [],
          members,
          source: 'entra',
          externalId: `eg${n}`,
        },
      });
    }
    const first = '2026-12-02T10:00:00.000Z';
    await apply(steps({ create_groups: addGroups, add_users: addUsers, set_memberships: addGroups }), first);
    let byExt = await indexed();
    expect(byExt.users.size).toBe(userCount);
    expect(byExt.groups.size).toBe(groupCount);
    for (const change of addUsers) {
      const u = byExt.users.get(change.externalId)!;
      const { role: _role, ...fields } = change.user;
      expect(u).toMatchObject({
        ...fields,
        aliases: [...fields.aliases].sort(),
        exempt: false,
        createdAt: first,
        updatedAt: first,
      });
    }
    for (const [n, change] of addGroups.entries()) {
      const g = byExt.groups.get(change.externalId)!;
      const { members: _members, ...fields } = change.group;
      expect(g).toMatchObject({ ...fields, source: 'entra', externalId: `eg${n}`, updatedAt: first });
      expect(refs(g)).toEqual(
        change.group.members
          .map((m) => `${m.type}:${(m.type === 'user' ? user : group)(Number(m.externalId!.slice(2))).id}`)
          .sort(),
      );
    }

    // A second sync: every user and group changes, in five mixes.
    const updateUsers: UpdateUserChange[] = [];
    const expectedUsers = new Map<string, Partial<User>>();
    for (let n = 0; n < userCount; n++) {
      const u = user(n);
      let after: UpdateUserChange['after'];
      switch (n % 5) {
        case 0: // a new primary address, aliases kept
          after = { email: `new${n}@${domain}` };
          break;
        case 1: // aliases: one dropped, one added
          after = { aliases: [`c${n}@${domain}`, ...u.aliases.slice(1)] };
          break;
        case 2: // deactivated or reactivated
          after = { status: u.status === 'active' ? 'inactive' : 'active', mailbox: 'user' };
          break;
        case 3: // names
          after = { firstName: null, lastName: `Renamed${n}`, displayName: `Renamed ${n}` };
          break;
        default: // everything at once, the old primary kept as an alias
          after = {
            email: `all${n}@${domain}`,
            aliases: [u.email],
            status: 'inactive',
            firstName: `F${n}`,
            lastName: null,
            displayName: null,
          };
      }
      updateUsers.push({
        kind: 'update_user',
        reason: 'changed',
        id: `upd-u${n}`,
        externalId: `eu${n}`,
        address: u.email,
        name: `User ${n}`,
        userId: u.id,
        before: {},
        after,
      });
      expectedUsers.set(u.id, {
        ...u,
        ...after,
        aliases: [...(after.aliases ?? u.aliases)].sort(),
        updatedAt: '2026-12-02T11:00:00.000Z',
      });
    }
    // An alias moving between users of different batches: user 1 drops a1 (first batch), the last
    // user whose aliases change takes it (last batch).
    const moved = `a1@${domain}`;
    expect(updateUsers[1]!.after.aliases).not.toContain(moved);
    const taker = updateUsers.findLast((_c, n) => n % 5 === 1)!;
    taker.after = { aliases: [...taker.after.aliases!, moved] };
    expectedUsers.get(taker.userId)!.aliases = [...taker.after.aliases!].sort();

    const updateGroups: UpdateGroupChange[] = [];
    const expectedGroups = new Map<string, { fields: Partial<Group>; members: string[] }>();
    for (let n = 0; n < groupCount; n++) {
      const g = group(n);
      let after: Omit<UpdateGroupChange['after'], 'members'>;
      switch (n % 4) {
        case 0:
          after = { name: `Renamed group ${n}` };
          break;
        case 1: // its address and aliases given up
          after = { email: null, aliases: [] };
          break;
        case 2: // a first address (or a new one) with an alias
          after = { email: `ng${n}@${domain}`, aliases: [`nga${n}@${domain}`], kind: 'security' };
          break;
        default: // aliases only
          after = g.email ? { aliases: [`gb${n}@${domain}`] } : { kind: 'distribution' };
      }
      // Two user members go, one comes (memberships removed: 2 a group, beyond one statement).
      const gone = g.members.filter((m) => m.type === 'user').slice(0, 2);
      const comes = user((n * 3 + 5) % userCount);
      const stays = g.members.filter((m) => !gone.some((x) => x.id === m.id)).map((m) => `${m.type}:${m.id}`);
      updateGroups.push({
        kind: 'update_group',
        id: `upd-g${n}`,
        externalId: `eg${n}`,
        address: g.email,
        name: g.name,
        groupId: g.id,
        before: {},
        after,
        membersAdded: [member('user', comes.externalId!, comes.id)],
        membersRemoved: gone.map((m) => member('user', `x${m.id}`, m.id)),
        membersLeftOut: 0,
      });
      const fields = { ...g, ...after };
      expectedGroups.set(g.id, {
        fields: {
          ...fields,
          aliases: fields.email ? [...fields.aliases].sort() : [],
          updatedAt: '2026-12-02T11:00:00.000Z',
        },
        members: [...new Set([...stays, `user:${comes.id}`])].sort(),
      });
    }
    await apply(
      steps({ update_users: updateUsers, update_groups: updateGroups, set_memberships: updateGroups }),
      '2026-12-02T11:00:00.000Z',
    );

    byExt = await indexed();
    expect(byExt.users.size).toBe(userCount);
    for (const u of byExt.users.values()) expect(u).toEqual(expectedUsers.get(u.id));
    for (const g of byExt.groups.values()) {
      const expected = expectedGroups.get(g.id)!;
      const { members: _members, ...fields } = expected.fields;
      expect({ ...g, members: [] }).toEqual({ ...fields, members: [] });
      expect(refs(g)).toEqual(expected.members);
    }

    // The addresses table says the same: each primary and alias owned by the right object, every
    // address given up free again (another organization could take it).
    const expectedOwners = new Map<string, string>();
    for (const u of expectedUsers.values())
      for (const a of [u.email!, ...u.aliases!]) expectedOwners.set(a, u.id!);
    for (const { fields: g } of expectedGroups.values()) {
      if (g.email) for (const a of [g.email, ...g.aliases!]) expectedOwners.set(a, g.id!);
    }
    const given = [
      ...addUsers.flatMap((c) => [c.user.email, ...c.user.aliases]),
      ...addGroups.flatMap((c) => (c.group.email ? [c.group.email, ...c.group.aliases] : [])),
    ];
    const owners = await repo.addressOwners([...new Set([...expectedOwners.keys(), ...given])]);
    expect(owners.length).toBe(expectedOwners.size);
    expect(new Map(owners.map((o) => [o.address, o.ownerId]))).toEqual(expectedOwners);
    expect(owners.find((o) => o.address === moved)?.ownerId).toBe(taker.userId);
    const primaries = owners.filter((o) => o.isPrimary).map((o) => o.address);
    expect(primaries.sort()).toEqual(
      [
        ...[...expectedUsers.values()].map((u) => u.email!),
        ...[...expectedGroups.values()].flatMap(({ fields: g }) => (g.email ? [g.email] : [])),
      ].sort(),
    );
  }, 120_000);

  it('keeps every character a name holds: tabs, line breaks, backslashes, quotes, \\N, non-ASCII', async () => {
    // PostgreSQL's inserts go by COPY, whose text format gives tab, newline, return and backslash
    // a meaning (and \N is its null): each must come back as it was written.
    const hostile = [
      'tab\there',
      'two\nlines',
      'cr\rlf\r\n',
      'back\\slash\\',
      '\\N',
      'quote " \' {a,b}',
      'Zoë 中文 😀',
      '',
    ];
    const addUsers: AddUserChange[] = hostile.map((name, n) => ({
      kind: 'add_user',
      id: `add-h${n}`,
      externalId: `hostile-u${n}`,
      address: `h${n}@${domain}`,
      name,
      user: {
        email: `h${n}@${domain}`,
        aliases: [],
        firstName: name,
        lastName: n % 2 === 0 ? null : name,
        displayName: name,
        status: 'active',
        mailbox: null,
        role: 'end_user',
        source: 'entra',
        externalId: `hostile-u${n}`,
      },
    }));
    const addGroups: AddGroupChange[] = hostile.map((name, n) => ({
      kind: 'add_group',
      id: `add-hg${n}`,
      externalId: `hostile-g${n}`,
      address: null,
      name,
      membersLeftOut: 0,
      group: {
        name,
        kind: 'security',
        email: null,
        aliases: [],
        members: [],
        source: 'entra',
        externalId: `hostile-g${n}`,
      },
    }));
    await apply(steps({ create_groups: addGroups, add_users: addUsers }), '2026-12-07T10:00:00.000Z');
    const byExt = await indexed();
    for (const [n, name] of hostile.entries()) {
      expect(byExt.users.get(`hostile-u${n}`)).toMatchObject({
        firstName: name,
        lastName: n % 2 === 0 ? null : name,
        displayName: name,
      });
      expect(byExt.groups.get(`hostile-g${n}`)?.name).toBe(name);
    }
  });

  const refs = (g: Group) => g.members.map((m) => `${m.type}:${m.id}`).sort();

  async function indexed() {
    const { users, groups } = await repo.loadAll();
    return {
      users: new Map(users.map((u) => [u.externalId!, u])),
      groups: new Map(groups.map((g) => [g.externalId!, g])),
    };
  }
});
