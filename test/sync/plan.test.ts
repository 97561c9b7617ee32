import { describe, expect, it } from 'vitest';
import type { User } from '../../src/directory/model.js';
import type { SkipReason } from '../../src/sync/changes.js';
import { plan } from '../../src/sync/plan.js';
import type { SourceUser } from '../../src/sync/source.js';
import {
  ALL_ON,
  applyInMemory,
  directory,
  dirGroup,
  dirUser,
  isEmptyPlan,
  PENDING_DOMAIN,
  policy,
  snapshot,
  srcGroup,
  srcUser,
} from './fixtures.js';

const reasons = (p: ReturnType<typeof plan>) => p.skipped.map((s) => [s.reason, s.externalId]);

describe('plan(): first sync', () => {
  it('adds every user and group in scope to an empty directory, with members by Entra id', () => {
    const src = snapshot(
      [srcUser('alice'), srcUser('bob', { accountEnabled: false, mailbox: 'user' })],
      [
        srcGroup('sales', {
          mailEnabled: true,
          securityEnabled: false,
          mail: 'sales@contoso.com',
          proxyAddresses: ['SMTP:sales@contoso.com'],
          memberUserIds: ['ext-alice', 'ext-bob'],
        }),
      ],
    );
    const p = plan(directory(), src, policy());
    expect(p.usersToAdd.map((c) => c.user)).toEqual([
      {
        email: 'alice@contoso.com',
        aliases: ['alice@contoso.onmicrosoft.com'],
        firstName: 'alice',
        lastName: 'Test',
        displayName: 'alice Test',
        role: 'end_user',
        status: 'active',
        mailbox: null,
        source: 'entra',
        externalId: 'ext-alice',
      },
      expect.objectContaining({ email: 'bob@contoso.com', status: 'inactive', externalId: 'ext-bob' }),
    ]);
    expect(p.groupsToAdd).toHaveLength(1);
    expect(p.groupsToAdd[0]!.group).toMatchObject({
      name: 'Group sales',
      kind: 'distribution',
      email: 'sales@contoso.com',
      aliases: [],
      externalId: 'gext-sales',
      members: [
        { type: 'user', id: null, externalId: 'ext-alice', label: 'alice@contoso.com' },
        { type: 'user', id: null, externalId: 'ext-bob', label: 'bob@contoso.com' },
      ],
    });
    expect(p.usersToUpdate).toEqual([]);
    expect(p.usersToRemove).toEqual([]);
    expect(p.skipped).toEqual([]);
    expect(p.unchanged).toBe(0);
  });

  it('converges: applying the plan and planning again gives nothing to do', () => {
    const src = snapshot(
      [srcUser('alice'), srcUser('bob')],
      [
        srcGroup('a', { memberUserIds: ['ext-alice'], memberGroupIds: ['gext-b'] }),
        srcGroup('b', { memberUserIds: ['ext-bob'] }),
      ],
    );
    const after = applyInMemory(directory(), plan(directory(), src, ALL_ON));
    const again = plan(after, src, ALL_ON);
    expect(isEmptyPlan(again)).toBe(true);
    expect(again.unchanged).toBe(4);
    const a = after.groups.find((g) => g.externalId === 'gext-a')!;
    const b = after.groups.find((g) => g.externalId === 'gext-b')!;
    expect(a.members).toEqual(
      expect.arrayContaining([
        { type: 'group', id: b.id },
        { type: 'user', id: after.users.find((u) => u.externalId === 'ext-alice')!.id },
      ]),
    );
  });
});

describe('plan(): user changes', () => {
  const cases: {
    name: string;
    src: Partial<SourceUser>;
    dir?: Partial<User>;
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
  }[] = [
    {
      name: 'a renamed user (new primary address) is one update',
      src: { proxyAddresses: ['SMTP:alicia@contoso.com', 'smtp:alice@contoso.onmicrosoft.com'] },
      before: { email: 'alice@contoso.com' },
      after: { email: 'alicia@contoso.com' },
    },
    {
      name: 'an alias added',
      src: {
        proxyAddresses: [
          'SMTP:alice@contoso.com',
          'smtp:alice@contoso.onmicrosoft.com',
          'smtp:al@contoso.com',
        ],
      },
      before: { aliases: ['alice@contoso.onmicrosoft.com'] },
      after: { aliases: ['al@contoso.com', 'alice@contoso.onmicrosoft.com'] },
    },
    {
      name: 'an alias removed',
      src: { proxyAddresses: ['SMTP:alice@contoso.com'] },
      before: { aliases: ['alice@contoso.onmicrosoft.com'] },
      after: { aliases: [] },
    },
    {
      name: "a person's mailbox disabled in Entra → inactive, not removed",
      src: { accountEnabled: false, mailbox: 'user' },
      before: { status: 'active', mailbox: null },
      after: { status: 'inactive', mailbox: 'user' },
    },
    {
      name: 're-enabled in Entra → active',
      src: { accountEnabled: true },
      dir: { status: 'inactive' },
      before: { status: 'inactive' },
      after: { status: 'active' },
    },
    {
      name: 'names changed',
      src: { displayName: 'Alice Smith', surname: 'Smith' },
      before: { displayName: 'alice Test', lastName: 'Test' },
      after: { displayName: 'Alice Smith', lastName: 'Smith' },
    },
    {
      name: 'addresses differing only in case are unchanged',
      src: { proxyAddresses: ['SMTP:Alice@Contoso.COM', 'smtp:ALICE@contoso.onmicrosoft.com'] },
    },
    {
      name: 'X500, SIP, SPO and EUM entries are not addresses',
      src: {
        proxyAddresses: [
          'SMTP:alice@contoso.com',
          'smtp:alice@contoso.onmicrosoft.com',
          'X500:/o=ExchangeLabs/ou=Exchange/cn=Recipients/cn=alice',
          'SIP:alice@contoso.com',
          'SPO:SPO_1234@SPO_5678',
          'EUM:1234;phone-context=contoso.com',
        ],
      },
    },
    {
      name: 'a lower-case smtp: entry is an alias, never the primary',
      src: { mail: 'alice@contoso.com', proxyAddresses: ['smtp:alice@contoso.onmicrosoft.com'] },
    },
    {
      name: 'without proxyAddresses the primary is mail',
      src: { mail: 'alice@contoso.com', proxyAddresses: [] },
      before: { aliases: ['alice@contoso.onmicrosoft.com'] },
      after: { aliases: [] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = plan(directory([dirUser('alice', c.dir)]), snapshot([srcUser('alice', c.src)]), policy());
      expect(p.usersToAdd).toEqual([]);
      expect(p.usersToRemove).toEqual([]);
      if (!c.after) {
        expect(p.usersToUpdate).toEqual([]);
        expect(p.unchanged).toBe(1);
        return;
      }
      expect(p.usersToUpdate).toHaveLength(1);
      const u = p.usersToUpdate[0]!;
      expect(u).toMatchObject({
        kind: 'update_user',
        reason: 'changed',
        userId: 'u-alice',
        externalId: 'ext-alice',
      });
      expect(u.before).toEqual(c.before);
      expect(u.after).toEqual(c.after);
      expect(p.unchanged).toBe(0);
    });
  }

  it('a user deleted from Entra is removed only with removeUsers on', () => {
    const table = [
      { removeUsers: true, removed: 1, off: 0 },
      { removeUsers: false, removed: 0, off: 1 },
    ];
    for (const row of table) {
      const p = plan(
        directory([dirUser('alice'), dirUser('bob')]),
        snapshot([srcUser('alice')]),
        policy({ how: { removeUsers: row.removeUsers } }),
      );
      expect(
        p.usersToRemove.map((c) => c.userId),
        JSON.stringify(row),
      ).toEqual(row.removed ? ['u-bob'] : []);
      expect(p.switchedOff.usersToRemove, JSON.stringify(row)).toBe(row.off);
    }
    const p = plan(directory([dirUser('bob')]), snapshot(), ALL_ON);
    expect(p.usersToRemove[0]).toMatchObject({
      kind: 'remove_user',
      reason: 'deleted',
      externalId: 'ext-bob',
      address: 'bob@contoso.com',
      name: 'bob Test',
    });
  });

  it('hand-made users are never removed, even without a counterpart in Entra', () => {
    const manual = dirUser('carol', { source: 'manual', externalId: null, id: 'u-carol' });
    const oddManual = dirUser('dave', { source: 'manual', externalId: 'ext-dave' });
    const p = plan(directory([manual, oddManual]), snapshot(), ALL_ON);
    expect(p.usersToRemove).toEqual([]);
  });

  it('a user who fell out of scope (became a guest, lost the mailbox) is removed with the reason', () => {
    const p = plan(
      directory([dirUser('alice'), dirUser('bob')]),
      snapshot([srcUser('alice', { userType: 'Guest' }), srcUser('bob', { mail: null, proxyAddresses: [] })]),
      ALL_ON,
    );
    expect(p.usersToRemove.map((c) => [c.userId, c.reason])).toEqual([
      ['u-alice', 'out_of_scope'],
      ['u-bob', 'out_of_scope'],
    ]);
    expect(p.usersToRemove[0]!.message).toMatch(/guest/);
    // The removal already says why: no second, skipped entry for the same user.
    expect(p.skipped).toEqual([]);
  });
});

describe('plan(): scope and addresses', () => {
  it('leaves guests out (listed as skipped), and syncs them with includeGuests', () => {
    const guest = srcUser('gina', { userType: 'Guest' });
    const p = plan(directory(), snapshot([guest, srcUser('alice')]), policy());
    expect(p.usersToAdd.map((c) => c.externalId)).toEqual(['ext-alice']);
    expect(reasons(p)).toEqual([['guest', 'ext-gina']]);
    const withGuests = plan(directory(), snapshot([guest]), policy({ includeGuests: true }));
    expect(withGuests.usersToAdd.map((c) => c.externalId)).toEqual(['ext-gina']);
  });

  it('treats a missing userType as a member', () => {
    const p = plan(directory(), snapshot([srcUser('alice', { userType: null })]), policy());
    expect(p.usersToAdd).toHaveLength(1);
  });

  it('skips users without any address as no_mailbox', () => {
    const p = plan(
      directory(),
      snapshot([srcUser('svc', { mail: null, proxyAddresses: ['X500:/o=x'] })]),
      policy(),
    );
    expect(p.usersToAdd).toEqual([]);
    expect(reasons(p)).toEqual([['no_mailbox', 'ext-svc']]);
  });

  it('skips a foreign-domain alias with a warning and still syncs the user', () => {
    const p = plan(
      directory(),
      snapshot([srcUser('alice', { proxyAddresses: ['SMTP:alice@contoso.com', 'smtp:alice@fabrikam.com'] })]),
      policy(),
    );
    expect(p.usersToAdd.map((c) => [c.address, c.user.aliases])).toEqual([['alice@contoso.com', []]]);
    expect(p.skipped).toEqual([
      expect.objectContaining({
        reason: 'alias_foreign_domain',
        objectType: 'user',
        externalId: 'ext-alice',
        address: 'alice@fabrikam.com',
      }),
    ]);
    expect(p.skipped[0]!.message).toContain('contoso.com');
  });

  it('skips an invalid alias with a warning and still syncs the user', () => {
    const p = plan(
      directory(),
      snapshot([srcUser('alice', { proxyAddresses: ['SMTP:alice@contoso.com', 'smtp:not an address'] })]),
      policy(),
    );
    expect(p.usersToAdd).toHaveLength(1);
    expect(reasons(p)).toEqual([['alias_invalid', 'ext-alice']]);
  });

  it('skips a user whose primary is in a foreign domain and goes on with the others', () => {
    const p = plan(
      directory(),
      snapshot([
        // Its aliases are not judged on top: the user is not synced at all.
        srcUser('ext', { proxyAddresses: ['SMTP:ext@fabrikam.com', 'smtp:ext@fabrikam.net'] }),
        srcUser('alice'),
      ]),
      policy(),
    );
    expect(p.usersToAdd.map((c) => c.externalId)).toEqual(['ext-alice']);
    expect(reasons(p)).toEqual([['primary_foreign_domain', 'ext-ext']]);
  });

  it('skips addresses in a pending domain with their own reason: the user whose primary it is, the alias of another', () => {
    const p = plan(
      directory(),
      snapshot([
        srcUser('pat', { proxyAddresses: [`SMTP:pat@${PENDING_DOMAIN}`] }),
        srcUser('alice', { proxyAddresses: ['SMTP:alice@contoso.com', `smtp:alice@${PENDING_DOMAIN}`] }),
      ]),
      policy(),
    );
    expect(p.usersToAdd.map((c) => [c.address, c.user.aliases])).toEqual([['alice@contoso.com', []]]);
    expect(reasons(p)).toEqual([
      ['alias_pending_domain', 'ext-alice'],
      ['primary_pending_domain', 'ext-pat'],
    ]);
    const pat = p.skipped.find((s) => s.externalId === 'ext-pat');
    expect(pat?.message).toContain(`pat@${PENDING_DOMAIN}`);
    expect(pat?.message).toMatch(/pending.*proven/);
  });

  it('leaves a synced user whose primary became foreign or invalid as it is: neither updated nor removed', () => {
    const p = plan(
      directory([dirUser('alice'), dirUser('bob')]),
      snapshot([
        srcUser('alice', { proxyAddresses: ['SMTP:alice@fabrikam.com'], displayName: 'New name' }),
        srcUser('bob', { proxyAddresses: ['SMTP:bob@@contoso.com'] }),
      ]),
      ALL_ON,
    );
    expect(p.usersToUpdate).toEqual([]);
    expect(p.usersToRemove).toEqual([]);
    expect(reasons(p)).toEqual([
      ['primary_foreign_domain', 'ext-alice'],
      ['primary_invalid', 'ext-bob'],
    ]);
  });

  it('uses the upper-case SMTP entry as primary, whatever mail says', () => {
    const p = plan(
      directory(),
      snapshot([
        srcUser('a', {
          mail: 'other@contoso.com',
          proxyAddresses: ['smtp:x@contoso.com', 'SMTP:a@contoso.com'],
        }),
      ]),
      policy(),
    );
    expect(p.usersToAdd[0]!.user).toMatchObject({ email: 'a@contoso.com', aliases: ['x@contoso.com'] });
  });

  it('accepts addresses in any of the organization domains, given in any case', () => {
    const dir = { ...directory(), domains: ['Contoso.COM'] };
    const p = plan(dir, snapshot([srcUser('a', { proxyAddresses: ['SMTP:A@CONTOSO.com'] })]), policy());
    expect(p.usersToAdd[0]!.address).toBe('a@contoso.com');
  });
});

describe('plan(): linking, conflicts, exemptions, roles', () => {
  it('links a hand-made user with the same primary address instead of adding a duplicate', () => {
    const manual = dirUser('alice', {
      id: 'u-manual',
      source: 'manual',
      externalId: null,
      role: 'org_admin',
      aliases: [],
      displayName: 'Alice (by hand)',
    });
    const p = plan(directory([manual]), snapshot([srcUser('alice')]), policy());
    expect(p.usersToAdd).toEqual([]);
    expect(p.usersToUpdate).toHaveLength(1);
    const u = p.usersToUpdate[0]!;
    expect(u).toMatchObject({ reason: 'linked', userId: 'u-manual', externalId: 'ext-alice' });
    expect(u.before).toEqual({
      source: 'manual',
      externalId: null,
      displayName: 'Alice (by hand)',
      aliases: [],
    });
    expect(u.after).toEqual({
      source: 'entra',
      externalId: 'ext-alice',
      displayName: 'alice Test',
      aliases: ['alice@contoso.onmicrosoft.com'],
    });
    expect('role' in u.after).toBe(false);
  });

  it('does not link a hand-made user that holds the address only as an alias: conflict', () => {
    const manual = dirUser('al', { source: 'manual', externalId: null, aliases: ['alice@contoso.com'] });
    const p = plan(directory([manual]), snapshot([srcUser('alice')]), policy());
    expect(p.usersToAdd).toEqual([]);
    expect(p.usersToUpdate).toEqual([]);
    expect(reasons(p)).toEqual([['address_conflict', 'ext-alice']]);
    expect(p.skipped[0]!.message).toContain('hand-made user al@contoso.com');
  });

  it('a primary address claimed by two Entra objects: both skipped', () => {
    const p = plan(
      directory(),
      snapshot([
        srcUser('a', { proxyAddresses: ['SMTP:shared@contoso.com'] }),
        srcUser('b', { mail: 'shared@contoso.com', proxyAddresses: [] }),
        srcUser('c'),
      ]),
      policy(),
    );
    expect(p.usersToAdd.map((c) => c.externalId)).toEqual(['ext-c']);
    expect(reasons(p)).toEqual([
      ['address_conflict', 'ext-a'],
      ['address_conflict', 'ext-b'],
    ]);
    expect(p.skipped[0]!.message).toContain('ext-b');
  });

  it('an alias claimed by two Entra objects is left out of both; both are still synced', () => {
    const p = plan(
      directory(),
      snapshot(
        [srcUser('a', { proxyAddresses: ['SMTP:a@contoso.com', 'smtp:info@contoso.com'] })],
        [
          srcGroup('g', {
            mailEnabled: true,
            securityEnabled: false,
            proxyAddresses: ['SMTP:g@contoso.com', 'smtp:info@contoso.com'],
          }),
        ],
      ),
      policy(),
    );
    expect(p.usersToAdd[0]!.user.aliases).toEqual([]);
    expect(p.groupsToAdd[0]!.group.aliases).toEqual([]);
    expect(p.skipped.map((s) => [s.reason, s.objectType])).toEqual([
      ['alias_conflict', 'group'],
      ['alias_conflict', 'user'],
    ]);
  });

  it("an address held by another directory object is a conflict (another Entra user's alias, a hand-made group)", () => {
    const other = dirUser('bob', { aliases: ['alice@contoso.com'] });
    const manualGroup = dirGroup('m', { source: 'manual', externalId: null, email: 'team@contoso.com' });
    const p = plan(
      directory([other], [manualGroup]),
      snapshot(
        [
          srcUser('alice'),
          // bob no longer has the alias in Entra, but holds it in the directory until his update is applied.
          srcUser('bob', { proxyAddresses: ['SMTP:bob@contoso.com'] }),
        ],
        [srcGroup('t', { mail: 'team@contoso.com', mailEnabled: true, securityEnabled: false })],
      ),
      policy(),
    );
    expect(p.usersToAdd).toEqual([]);
    expect(p.groupsToAdd).toEqual([]);
    expect(p.usersToUpdate.map((c) => [c.externalId, c.after.aliases])).toEqual([['ext-bob', []]]);
    const msg = p.skipped.find((s) => s.externalId === 'ext-alice')!.message;
    expect(msg).toContain('user bob@contoso.com (Entra object ext-bob)');
    expect(reasons(p)).toEqual([
      ['address_conflict', 'gext-t'],
      ['address_conflict', 'ext-alice'],
    ]);
  });

  it('an alias moving from one user to another arrives one run after it was released', () => {
    const before = directory([
      dirUser('a', { aliases: ['info@contoso.com'] }),
      dirUser('b', { aliases: [] }),
    ]);
    const src = snapshot([
      srcUser('a', { proxyAddresses: ['SMTP:a@contoso.com'] }),
      srcUser('b', { proxyAddresses: ['SMTP:b@contoso.com', 'smtp:info@contoso.com'] }),
    ]);
    const first = plan(before, src, policy());
    expect(first.usersToUpdate.map((c) => [c.externalId, c.after.aliases])).toEqual([['ext-a', []]]);
    expect(reasons(first)).toEqual([['alias_conflict', 'ext-b']]);
    const second = plan(applyInMemory(before, first), src, policy());
    expect(second.usersToUpdate.map((c) => [c.externalId, c.after.aliases])).toEqual([
      ['ext-b', ['info@contoso.com']],
    ]);
    expect(second.skipped).toEqual([]);
  });

  it('exempt objects are never changed or removed, and say so', () => {
    const p = plan(
      directory(
        [
          dirUser('alice', { exempt: true }),
          dirUser('bob', { exempt: true }),
          dirUser('carol', { exempt: true }),
        ],
        [dirGroup('g', { exempt: true }), dirGroup('h', { exempt: true })],
      ),
      snapshot(
        [srcUser('alice', { accountEnabled: false, mailbox: 'user' }), srcUser('carol')],
        [srcGroup('g', { displayName: 'New' })],
      ),
      ALL_ON,
    );
    expect(p.usersToUpdate).toEqual([]);
    expect(p.usersToRemove).toEqual([]);
    expect(p.groupsToUpdate).toEqual([]);
    expect(p.groupsToRemove).toEqual([]);
    expect(reasons(p)).toEqual([
      ['exempt', 'gext-g'],
      ['exempt', 'gext-h'],
      ['exempt', 'ext-alice'],
      ['exempt', 'ext-bob'],
    ]);
    // Carol matches Entra: nothing would change, so she is simply unchanged.
    expect(p.unchanged).toBe(1);
  });

  it('an exempt hand-made user with the same address is not linked, and no duplicate is added', () => {
    const manual = dirUser('alice', { source: 'manual', externalId: null, exempt: true });
    const p = plan(directory([manual]), snapshot([srcUser('alice')]), policy());
    expect(p.usersToAdd).toEqual([]);
    expect(p.usersToUpdate).toEqual([]);
    expect(reasons(p)).toEqual([['exempt', 'ext-alice']]);
  });

  it('gives new users the default role and never changes the role of existing ones', () => {
    for (const defaultRole of ['end_user', 'silent_user'] as const) {
      const p = plan(
        directory([dirUser('admin', { role: 'org_admin' })]),
        snapshot([srcUser('new'), srcUser('admin', { displayName: 'Renamed' })]),
        policy({ defaultRole }),
      );
      expect(p.usersToAdd.map((c) => c.user.role)).toEqual([defaultRole]);
      expect(p.usersToUpdate).toHaveLength(1);
      expect(Object.keys(p.usersToUpdate[0]!.after)).toEqual(['displayName']);
    }
  });
});

describe('plan(): groups', () => {
  const kinds = [
    {
      name: 'Microsoft 365 group',
      g: { groupTypes: ['Unified'], mailEnabled: true, securityEnabled: false },
      kind: 'distribution',
    },
    {
      name: 'Microsoft 365 group, security-enabled',
      g: { groupTypes: ['Unified'], mailEnabled: true, securityEnabled: true },
      kind: 'distribution',
    },
    {
      name: 'dynamic Microsoft 365 group',
      g: { groupTypes: ['DynamicMembership', 'Unified'], mailEnabled: true, securityEnabled: false },
      kind: 'distribution',
    },
    {
      name: 'distribution list',
      g: { groupTypes: [], mailEnabled: true, securityEnabled: false },
      kind: 'distribution',
    },
    {
      name: 'mail-enabled security group',
      g: { groupTypes: [], mailEnabled: true, securityEnabled: true },
      kind: 'security',
    },
    {
      name: 'security group',
      g: { groupTypes: [], mailEnabled: false, securityEnabled: true },
      kind: 'security',
    },
    {
      name: 'dynamic security group',
      g: { groupTypes: ['DynamicMembership'], mailEnabled: false, securityEnabled: true },
      kind: 'security',
    },
  ] as const;
  for (const k of kinds) {
    it(`classifies a ${k.name} as ${k.kind} and syncs its members`, () => {
      const p = plan(
        directory(),
        snapshot(
          [srcUser('alice')],
          [srcGroup('x', { ...k.g, groupTypes: [...k.g.groupTypes], memberUserIds: ['ext-alice'] })],
        ),
        policy(),
      );
      expect(p.groupsToAdd.map((c) => [c.group.kind, c.group.members.map((m) => m.externalId)])).toEqual([
        [k.kind, ['ext-alice']],
      ]);
      const off = plan(
        directory(),
        snapshot([], [srcGroup('x', { ...k.g, groupTypes: [...k.g.groupTypes] })]),
        policy({ what: { [k.kind]: false } }),
      );
      expect(off.groupsToAdd).toEqual([]);
    });
  }

  it('keeps nested groups as group members and leaves out members that are not synced', () => {
    const p = plan(
      directory(),
      snapshot(
        [srcUser('alice'), srcUser('gina', { userType: 'Guest' })],
        [
          srcGroup('parent', {
            memberUserIds: ['ext-alice', 'ext-gina', 'ext-unknown'],
            memberGroupIds: ['gext-child', 'gext-parent'],
          }),
          srcGroup('child', { memberUserIds: ['ext-alice'] }),
        ],
      ),
      policy(),
    );
    const parent = p.groupsToAdd.find((c) => c.externalId === 'gext-parent')!;
    expect(parent.group.members).toEqual([
      { type: 'group', id: null, externalId: 'gext-child', label: 'Group child' },
      { type: 'user', id: null, externalId: 'ext-alice', label: 'alice@contoso.com' },
    ]);
    // gina (guest) and an id not in the snapshot; the self-reference is dropped, not counted.
    expect(parent.membersLeftOut).toBe(2);
  });

  it('a member group of a kind that is not synced is left out', () => {
    const p = plan(
      directory(),
      snapshot(
        [],
        [
          srcGroup('sec', { memberGroupIds: ['gext-dl'] }),
          srcGroup('dl', { mailEnabled: true, securityEnabled: false, mail: 'dl@contoso.com' }),
        ],
      ),
      policy({ what: { distribution: false } }),
    );
    expect(p.groupsToAdd.map((c) => [c.externalId, c.group.members.length, c.membersLeftOut])).toEqual([
      ['gext-sec', 0, 1],
    ]);
  });

  it('plans membership changes as a group update listing only the members added and removed', () => {
    const dir = directory(
      [dirUser('alice'), dirUser('bob')],
      [dirGroup('g', { members: [{ type: 'user', id: 'u-alice' }] })],
    );
    const p = plan(
      dir,
      snapshot(
        [srcUser('alice'), srcUser('bob'), srcUser('carol')],
        [srcGroup('g', { memberUserIds: ['ext-bob', 'ext-carol'] })],
      ),
      policy(),
    );
    expect(p.groupsToUpdate).toHaveLength(1);
    const u = p.groupsToUpdate[0]!;
    const alice = { type: 'user', id: 'u-alice', externalId: 'ext-alice', label: 'alice@contoso.com' };
    const bob = { type: 'user', id: 'u-bob', externalId: 'ext-bob', label: 'bob@contoso.com' };
    const carol = { type: 'user', id: null, externalId: 'ext-carol', label: 'carol@contoso.com' };
    expect(u.before).toEqual({});
    expect(u.after).toEqual({});
    expect(u.membersAdded).toEqual([bob, carol]);
    expect(u.membersRemoved).toEqual([alice]);
  });

  it('plans group field changes: rename, new address, kind, foreign alias left out', () => {
    const dir = directory([], [dirGroup('g', { kind: 'security', email: null })]);
    const p = plan(
      dir,
      snapshot(
        [],
        [
          srcGroup('g', {
            displayName: 'Sales',
            groupTypes: ['Unified'],
            mailEnabled: true,
            mail: 'sales@contoso.com',
            proxyAddresses: ['SMTP:sales@contoso.com', 'smtp:sales@fabrikam.com'],
          }),
        ],
      ),
      policy(),
    );
    expect(p.groupsToUpdate.map((c) => [c.before, c.after])).toEqual([
      [
        { name: 'Group g', kind: 'security', email: null },
        { name: 'Sales', kind: 'distribution', email: 'sales@contoso.com' },
      ],
    ]);
    expect(reasons(p)).toEqual([['alias_foreign_domain', 'gext-g']]);
  });

  it('removes a group deleted from Entra only with removeGroups, leaving hand-made groups and unsynced kinds alone', () => {
    const dir = directory(
      [],
      [
        dirGroup('gone'),
        dirGroup('dl', { kind: 'distribution', email: 'dl@contoso.com' }),
        dirGroup('manual', { source: 'manual', externalId: null }),
      ],
    );
    const on = plan(dir, snapshot(), policy({ how: { removeGroups: true }, what: { distribution: false } }));
    expect(on.groupsToRemove.map((c) => [c.groupId, c.reason])).toEqual([['g-gone', 'deleted']]);
    expect(plan(dir, snapshot(), policy()).groupsToRemove).toEqual([]);
  });

  it('a removed member disappears from the member lists that named it', () => {
    const dir = directory(
      [dirUser('alice'), dirUser('bob')],
      [
        dirGroup('g', {
          members: [
            { type: 'user', id: 'u-alice' },
            { type: 'user', id: 'u-bob' },
          ],
        }),
      ],
    );
    const p = plan(
      dir,
      snapshot([srcUser('alice')], [srcGroup('g', { memberUserIds: ['ext-alice'] })]),
      ALL_ON,
    );
    expect(p.usersToRemove.map((c) => c.userId)).toEqual(['u-bob']);
    expect(p.groupsToUpdate[0]!.membersRemoved.map((m) => m.id)).toEqual(['u-bob']);
  });
});

describe('plan(): switches', () => {
  // One directory and source that call for one change of every kind.
  const dir = directory([dirUser('changed'), dirUser('gone')], [dirGroup('changed'), dirGroup('gone')]);
  const src = snapshot(
    [srcUser('changed', { displayName: 'Renamed' }), srcUser('new')],
    [srcGroup('changed', { displayName: 'Renamed' }), srcGroup('new')],
  );
  const switches = [
    ['addUsers', 'usersToAdd'],
    ['updateUsers', 'usersToUpdate'],
    ['removeUsers', 'usersToRemove'],
    ['addGroups', 'groupsToAdd'],
    ['updateGroups', 'groupsToUpdate'],
    ['removeGroups', 'groupsToRemove'],
  ] as const;

  it('with every switch on, plans one change of every kind', () => {
    const p = plan(dir, src, ALL_ON);
    for (const [, category] of switches) expect(p[category], category).toHaveLength(1);
  });

  for (const [sw, category] of switches) {
    it(`${sw} off: no ${category}, counted as switched off; the other kinds are still planned`, () => {
      const p = plan(dir, src, { ...ALL_ON, how: { ...ALL_ON.how, [sw]: false } });
      for (const [, other] of switches) {
        expect(p[other], other).toHaveLength(other === category ? 0 : 1);
        expect(p.switchedOff[other], other).toBe(other === category ? 1 : 0);
      }
    });
  }

  it('what.users off: no user change at all, removals included, and users stay group members', () => {
    const d = directory(
      [dirUser('alice'), dirUser('gone')],
      [dirGroup('g', { members: [{ type: 'user', id: 'u-alice' }] })],
    );
    const p = plan(
      d,
      snapshot(
        [srcUser('alice', { displayName: 'X' }), srcUser('new'), srcUser('gina', { userType: 'Guest' })],
        [srcGroup('g', { memberUserIds: ['ext-alice', 'ext-new'] })],
      ),
      policy({ what: { users: false }, how: { removeUsers: true } }),
    );
    expect([p.usersToAdd, p.usersToUpdate, p.usersToRemove]).toEqual([[], [], []]);
    expect(p.skipped).toEqual([]);
    // alice is still in the directory and still a member; "new" is not there, so left out.
    expect(p.groupsToUpdate).toEqual([]);
    expect(p.unchanged).toBe(1);
  });

  it('what.security / what.distribution off: those groups are neither added, updated nor removed', () => {
    const d = directory(
      [],
      [dirGroup('sec'), dirGroup('dl', { kind: 'distribution', email: 'dl@contoso.com' })],
    );
    const p = plan(
      d,
      snapshot([], [srcGroup('sec', { displayName: 'changed' }), srcGroup('new')]),
      policy({ what: { security: false, distribution: false }, how: { removeGroups: true } }),
    );
    expect([p.groupsToAdd, p.groupsToUpdate, p.groupsToRemove]).toEqual([[], [], []]);
  });

  it('a new user whose add is switched off is left out of the group it belongs to', () => {
    const p = plan(
      directory(),
      snapshot([srcUser('alice')], [srcGroup('g', { memberUserIds: ['ext-alice'] })]),
      policy({ how: { addUsers: false } }),
    );
    expect(p.groupsToAdd[0]!.group.members).toEqual([]);
    expect(p.groupsToAdd[0]!.membersLeftOut).toBe(1);
  });
});

describe('plan(): ids and determinism', () => {
  const dir = directory(
    [dirUser('alice'), dirUser('bob'), dirUser('gone')],
    [dirGroup('g', { members: [{ type: 'user', id: 'u-alice' }] }), dirGroup('old')],
  );
  const users = [
    srcUser('alice', { accountEnabled: false, mailbox: 'user' }),
    srcUser('bob', { proxyAddresses: ['SMTP:robert@contoso.com', 'smtp:x@fabrikam.com'] }),
    srcUser('carol'),
    srcUser('dan', { userType: 'Guest' }),
    srcUser('eve', { proxyAddresses: ['SMTP:dup@contoso.com'] }),
    srcUser('fay', { proxyAddresses: ['SMTP:dup@contoso.com'] }),
  ];
  const groups = [
    srcGroup('g', { memberUserIds: ['ext-carol', 'ext-bob', 'ext-alice'], memberGroupIds: ['gext-n'] }),
    srcGroup('n', { memberUserIds: ['ext-dan', 'ext-carol'] }),
  ];

  it('gives the same ids for the same input', () => {
    const a = plan(dir, snapshot(users, groups), ALL_ON);
    const b = plan(structuredClone(dir), structuredClone(snapshot(users, groups)), ALL_ON);
    expect(b).toEqual(a);
    const ids = [
      a.usersToAdd,
      a.usersToUpdate,
      a.usersToRemove,
      a.groupsToAdd,
      a.groupsToUpdate,
      a.groupsToRemove,
    ]
      .flat()
      .map((c) => c.id);
    expect(ids.length).toBe(7);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^(au|uu|ru|ag|ug|rg)_[0-9a-f]{16}$/);
  });

  it('gives another id when the target value differs, and keeps the ids of unrelated changes', () => {
    const a = plan(dir, snapshot(users, groups), ALL_ON);
    const changedCarol = users.map((u) =>
      u.externalId === 'ext-carol' ? { ...u, displayName: 'Carol B' } : u,
    );
    const b = plan(dir, snapshot(changedCarol, groups), ALL_ON);
    expect(b.usersToAdd[0]!.id).not.toBe(a.usersToAdd[0]!.id);
    expect(b.usersToUpdate.map((c) => c.id)).toEqual(a.usersToUpdate.map((c) => c.id));
    expect(b.usersToRemove.map((c) => c.id)).toEqual(a.usersToRemove.map((c) => c.id));
    const renamedBob = users.map((u) =>
      u.externalId === 'ext-bob' ? { ...u, proxyAddresses: ['SMTP:bobby@contoso.com'] } : u,
    );
    const c = plan(dir, snapshot(renamedBob, groups), ALL_ON);
    const bobA = a.usersToUpdate.find((x) => x.externalId === 'ext-bob')!;
    const bobC = c.usersToUpdate.find((x) => x.externalId === 'ext-bob')!;
    expect(bobC.id).not.toBe(bobA.id);
  });

  it('gives an identical plan for shuffled input', () => {
    const expected = plan(dir, snapshot(users, groups), ALL_ON);
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const shuffle = <T>(xs: T[]): T[] => {
      const out = [...xs];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    };
    for (let round = 0; round < 10; round++) {
      const d = {
        ...dir,
        users: shuffle(dir.users),
        groups: shuffle(dir.groups).map((g) => ({ ...g, members: shuffle(g.members) })),
      };
      const s = snapshot(
        shuffle(users).map((u) => ({ ...u, proxyAddresses: shuffle(u.proxyAddresses) })),
        shuffle(groups).map((g) => ({ ...g, memberUserIds: shuffle(g.memberUserIds) })),
      );
      expect(plan(d, s, ALL_ON)).toEqual(expected);
    }
  });

  it('refuses a snapshot that lists one object twice', () => {
    expect(() => plan(directory(), snapshot([srcUser('a'), srcUser('a')]), policy())).toThrow(/twice/);
  });
});

describe('plan(): every skip reason is produced by some rule', () => {
  it('covers the catalog', async () => {
    const { SKIP_REASONS } = await import('../../src/sync/changes.js');
    const seen = new Set<SkipReason>();
    const p = plan(
      directory([dirUser('ex', { exempt: true })]),
      snapshot([
        srcUser('g', { userType: 'Guest' }),
        srcUser('n', { mail: null, proxyAddresses: [] }),
        srcUser('i', { proxyAddresses: ['SMTP:@@contoso.com'] }),
        srcUser('f', { proxyAddresses: ['SMTP:f@fabrikam.com'] }),
        srcUser('ai', { proxyAddresses: ['SMTP:ai@contoso.com', 'smtp:bad address'] }),
        srcUser('af', { proxyAddresses: ['SMTP:af@contoso.com', 'smtp:af@fabrikam.com'] }),
        srcUser('p', { proxyAddresses: [`SMTP:p@${PENDING_DOMAIN}`] }),
        srcUser('ap', { proxyAddresses: ['SMTP:ap@contoso.com', `smtp:ap@${PENDING_DOMAIN}`] }),
        srcUser('c1', { proxyAddresses: ['SMTP:c2@contoso.com'] }),
        srcUser('ac', { proxyAddresses: ['SMTP:ac@contoso.com', 'smtp:c2@contoso.com'] }),
        srcUser('ex', { displayName: 'changed' }),
      ]),
      policy(),
    );
    for (const s of p.skipped) seen.add(s.reason);
    expect([...seen].sort()).toEqual([...SKIP_REASONS].sort());
  });
});

describe("plan(): the tenant's own initial domains, and skipped by reason", () => {
  /** An organization that owns contoso.com only: the tenant's onmicrosoft.com domains are not its own. */
  const customOnly = () => ({ ...directory(), domains: ['contoso.com'] });
  /** A user as Exchange Online gives every mailbox: the initial and the routing domain's alias. */
  const exchangeUser = (key: string, over: Partial<SourceUser> = {}) =>
    srcUser(key, {
      proxyAddresses: [
        `SMTP:${key}@contoso.com`,
        `smtp:${key}@contoso.onmicrosoft.com`,
        `smtp:${key}@contoso.mail.onmicrosoft.com`,
      ],
      ...over,
    });

  it('leaves out aliases in *.onmicrosoft.com and *.mail.onmicrosoft.com silently, counting them on one line', () => {
    const p = plan(
      customOnly(),
      snapshot(
        [exchangeUser('alice'), exchangeUser('bob')],
        [
          srcGroup('sales', {
            groupTypes: ['Unified'],
            mailEnabled: true,
            mail: 'sales@contoso.com',
            proxyAddresses: ['SMTP:sales@contoso.com', 'smtp:sales@contoso.onmicrosoft.com'],
          }),
        ],
      ),
      policy(),
    );
    expect(p.usersToAdd.map((c) => [c.address, c.user.aliases])).toEqual([
      ['alice@contoso.com', []],
      ['bob@contoso.com', []],
    ]);
    expect(p.groupsToAdd.map((c) => c.group.aliases)).toEqual([[]]);
    // Before: five alias_foreign_domain entries, one per alias; now none, and one count.
    expect(p.skipped).toEqual([]);
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 5 });
    expect(Object.values(p.skippedByReason).every((n) => n === 0)).toBe(true);
  });

  it('keeps such an alias as a normal address when the organization added that domain', () => {
    const p = plan(
      { ...directory(), domains: ['contoso.com', 'contoso.onmicrosoft.com'] },
      snapshot([exchangeUser('alice')]),
      policy(),
    );
    expect(p.usersToAdd[0]!.user.aliases).toEqual(['alice@contoso.onmicrosoft.com']);
    // The routing domain was not added: its alias is still expected, and counted.
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 1 });
    expect(p.skipped).toEqual([]);
  });

  it('counts an alias once per object, however often it is listed; a pending initial domain stays a skip', () => {
    const p = plan(
      { ...customOnly(), pendingDomains: ['contoso.onmicrosoft.com'] },
      snapshot([
        srcUser('alice', {
          proxyAddresses: [
            'SMTP:alice@contoso.com',
            'smtp:alice@contoso.onmicrosoft.com',
            'smtp:ALICE@contoso.mail.onmicrosoft.com',
            'smtp:alice@contoso.mail.onmicrosoft.com',
          ],
        }),
      ]),
      policy(),
    );
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 1 });
    expect(reasons(p)).toEqual([['alias_pending_domain', 'ext-alice']]);
  });

  it('still skips a primary address in an initial domain: the object cannot be synced', () => {
    const p = plan(
      customOnly(),
      snapshot([
        srcUser('svc', {
          mail: 'svc@contoso.onmicrosoft.com',
          proxyAddresses: ['SMTP:svc@contoso.onmicrosoft.com', 'smtp:svc@contoso.mail.onmicrosoft.com'],
        }),
      ]),
      policy(),
    );
    expect(p.usersToAdd).toEqual([]);
    expect(reasons(p)).toEqual([['primary_foreign_domain', 'ext-svc']]);
    // Its aliases are not judged (nothing of the object is synced), so not counted either.
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 0 });
  });

  it('does not take look-alike domains for initial ones', () => {
    const p = plan(
      customOnly(),
      snapshot([
        srcUser('alice', {
          proxyAddresses: [
            'SMTP:alice@contoso.com',
            'smtp:alice@onmicrosoft.com.evil.example',
            'smtp:alice@notonmicrosoft.com',
          ],
        }),
      ]),
      policy(),
    );
    expect(reasons(p)).toEqual([
      ['alias_foreign_domain', 'ext-alice'],
      ['alias_foreign_domain', 'ext-alice'],
    ]);
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 0 });
  });

  it('counts skipped entries per reason, every code present', async () => {
    const { SKIP_REASONS } = await import('../../src/sync/changes.js');
    const p = plan(
      customOnly(),
      snapshot([
        srcUser('g1', { userType: 'Guest' }),
        srcUser('g2', { userType: 'Guest' }),
        srcUser('af', { proxyAddresses: ['SMTP:af@contoso.com', 'smtp:af@fabrikam.com'] }),
        exchangeUser('ok'),
      ]),
      policy(),
    );
    expect(Object.keys(p.skippedByReason).sort()).toEqual([...SKIP_REASONS].sort());
    expect(p.skippedByReason).toMatchObject({ guest: 2, alias_foreign_domain: 1, no_mailbox: 0 });
    const total = Object.values(p.skippedByReason).reduce((n, v) => n + v, 0);
    expect(total).toBe(p.skipped.length);
    // Guests are out of scope (their addresses are not judged); af lists none; ok has two.
    expect(p.expectedLeftOut).toEqual({ initialDomainAliases: 2 });
  });
});

describe('plan(): recipients as Exchange knows them', () => {
  const blocked = (key: string, mailbox: SourceUser['mailbox']) =>
    srcUser(key, { accountEnabled: false, mailbox });

  it('keeps shared, room and equipment mailboxes with sign-in blocked deliverable; a blocked person is inactive', () => {
    const p = plan(
      directory(),
      snapshot([
        blocked('info', 'shared'),
        blocked('boardroom', 'room'),
        blocked('projector', 'equipment'),
        blocked('leaver', 'user'),
        srcUser('ann'),
      ]),
      policy(),
    );
    const status = Object.fromEntries(p.usersToAdd.map((c) => [c.address, [c.user.status, c.user.mailbox]]));
    expect(status).toEqual({
      'info@contoso.com': ['active', 'shared'],
      'boardroom@contoso.com': ['active', 'room'],
      'projector@contoso.com': ['active', 'equipment'],
      'leaver@contoso.com': ['inactive', 'user'],
      'ann@contoso.com': ['active', null],
    });
    expect(p.blockedSignIn).toEqual({ functional: 3, person: 1, rule: 0 });
  });

  it.each([
    ['deliver', 'active'],
    ['reject', 'inactive'],
  ] as const)('an unknown purpose with sign-in blocked follows the rule: %s → %s', (rule, status) => {
    const p = plan(directory(), snapshot([blocked('mystery', null)]), policy({ blockedMailboxes: rule }));
    expect(p.usersToAdd.map((c) => c.user.status)).toEqual([status]);
    expect(p.blockedSignIn).toEqual({ functional: 0, person: 0, rule: 1 });
  });

  it('a purpose once known is kept while the source has none to say', () => {
    const p = plan(
      directory([dirUser('info', { mailbox: 'shared' })]),
      snapshot([blocked('info', null)]),
      policy({ blockedMailboxes: 'reject' }),
    );
    expect(p.usersToUpdate).toEqual([]);
    expect(p.unchanged).toBe(1);
    expect(p.blockedSignIn).toEqual({ functional: 1, person: 0, rule: 0 });
  });

  it('a mailbox converted from a person to shared becomes deliverable in one update', () => {
    const p = plan(
      directory([dirUser('sales', { mailbox: 'user', status: 'inactive' })]),
      snapshot([blocked('sales', 'shared')]),
      policy(),
    );
    expect(p.usersToUpdate.map((c) => [c.before, c.after])).toEqual([
      [
        { status: 'inactive', mailbox: 'user' },
        { status: 'active', mailbox: 'shared' },
      ],
    ]);
  });

  it('counts billable users (active, not functional accounts) before and after the plan', () => {
    const p = plan(
      directory([
        dirUser('ann'),
        dirUser('bob'),
        dirUser('info', { mailbox: 'shared' }),
        dirUser('gone'),
        dirUser('old', { status: 'inactive', mailbox: 'user' }),
      ]),
      snapshot([
        srcUser('ann'),
        blocked('bob', 'user'),
        blocked('info', 'shared'),
        srcUser('old', { mailbox: 'user' }),
        srcUser('new1'),
        srcUser('new2'),
        blocked('room1', 'room'),
      ]),
      ALL_ON,
    );
    // before: ann, bob, gone (info is functional, old inactive); after: ann, old, new1, new2.
    expect(p.seats).toEqual({ before: 3, after: 4 });
  });
});

describe('plan(): names as the directory keeps them', () => {
  it('takes control characters out of Entra names and cuts them to 256 characters', () => {
    const p = plan(
      directory(),
      snapshot([
        srcUser('nul', { displayName: 'Ada\u0000 Love\u0007lace', givenName: 'Line\nBreak' }),
        srcUser('long', { displayName: 'x'.repeat(100_000) }),
        srcUser('empty', { displayName: '\u0000\u0001', surname: '\u001f' }),
      ]),
      policy(),
    );
    const byAddress = Object.fromEntries(p.usersToAdd.map((c) => [c.address, c.user]));
    expect(byAddress['nul@contoso.com']).toMatchObject({
      displayName: 'Ada Lovelace',
      firstName: 'Line Break',
    });
    expect(byAddress['long@contoso.com']!.displayName).toBe('x'.repeat(256));
    expect(byAddress['empty@contoso.com']).toMatchObject({ displayName: null, lastName: null });
  });
});
