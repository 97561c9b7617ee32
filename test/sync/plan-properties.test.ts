import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '../../src/directory/addresses.js';
import type { Group, User } from '../../src/directory/model.js';
import { MAILBOX_KINDS } from '../../src/directory/recipients.js';
import type { Plan } from '../../src/sync/changes.js';
import { type CurrentDirectory, plan } from '../../src/sync/plan.js';
import type { SyncPolicy } from '../../src/sync/policy.js';
import { allChanges } from '../../src/sync/select.js';
import type { SourceGroup, SourceSnapshot, SourceUser } from '../../src/sync/source.js';
import { ALL_ON, applyInMemory, dirGroup, dirUser, isEmptyPlan } from './fixtures.js';

/**
 * Properties of plan() over generated directories and snapshots, beside the rule-by-rule cases of
 * plan.test.ts. Inputs are drawn from small pools (a few local parts and domains, a dozen Entra
 * ids) so that what is rare in a real tenant is common here: addresses claimed twice, aliases held
 * by another object, pending and foreign domains, guests, blocked mailboxes, nested and unknown
 * members, hand-made users to link, exempt and hand-edited objects, every switch on and off.
 *
 * A directory is made the way it happens: a first sync of one snapshot (some changes unticked)
 * over hand-made objects, then edited by hand; it is then planned against a second snapshot that
 * keeps, replaces or drops each object of the first.
 */

/** Runs per property; PLAN_PROPERTY_RUNS=5000 searches harder (fast-check prints the seed of a failure). */
const RUNS = Number(process.env.PLAN_PROPERTY_RUNS ?? 200);

// --- Generators -------------------------------------------------------------------------------

const LOCALS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'info', 'sales'];
const DOMAINS = [
  ...Array(5).fill('contoso.com'),
  'fabrikam.com',
  'pending.contoso.com',
  'other.org',
  'contoso.onmicrosoft.com',
  'contoso.mail.onmicrosoft.com',
];
const address = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(fc.constantFrom(...LOCALS), fc.constantFrom(...DOMAINS)).map(([l, d]) => `${l}@${d}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('not an address', 'INFO@Contoso.COM', ' b@contoso.com ', 'a@@x') },
);
const name = fc.constantFrom<string | null>(
  null,
  'Ann',
  'Ann',
  ' Ann ',
  'B\u0001ob',
  'x'.repeat(300),
  '   ',
  'Zed',
);
const USER_IDS = Array.from({ length: 12 }, (_, i) => `ext-${i}`);
const GROUP_IDS = Array.from({ length: 8 }, (_, i) => `gext-${i}`);
/** Source slots: ext-0…ext-8 and gext-0…gext-5; the other ids are members nobody has. */
const USER_SLOTS = 9;
const GROUP_SLOTS = 6;
const mostly = (value: boolean) =>
  fc.oneof({ weight: 4, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: fc.constant(!value) });

const proxyAddresses = fc
  .record({
    primaries: fc.array(address, { maxLength: 2 }),
    aliases: fc.array(address, { maxLength: 3 }),
    others: fc.boolean(),
  })
  .map(({ primaries, aliases, others }) => [
    ...primaries.map((a) => `SMTP:${a}`),
    ...aliases.map((a) => `smtp:${a}`),
    ...(others ? ['X500:/o=ex/cn=x', 'SIP:a@contoso.com'] : []),
  ]);

const userFields: fc.Arbitrary<Omit<SourceUser, 'externalId'>> = fc.record({
  userPrincipalName: fc.constantFrom('', 'person@contoso.com', 'other@contoso.com'),
  userType: fc.constantFrom<string | null>('Member', 'Member', 'Member', 'Guest', 'guest', null),
  accountEnabled: fc.boolean(),
  mail: fc.option(address, { nil: null }),
  proxyAddresses,
  givenName: name,
  surname: name,
  displayName: name,
  mailbox: fc.constantFrom(null, null, ...MAILBOX_KINDS),
});

const groupFields: fc.Arbitrary<Omit<SourceGroup, 'externalId'>> = fc.record({
  displayName: fc.constantFrom('Sales', 'Sales', 'Eng', ' ', 'Ops\u0002', ''),
  mail: fc.option(address, { nil: null }),
  mailEnabled: fc.boolean(),
  securityEnabled: fc.boolean(),
  groupTypes: fc.constantFrom([], [], ['Unified'], ['DynamicMembership']),
  proxyAddresses,
  memberUserIds: fc.array(fc.constantFrom(...USER_IDS), { maxLength: 5 }),
  memberGroupIds: fc.array(fc.constantFrom(...GROUP_IDS), { maxLength: 3 }),
});

interface Slots {
  users: (Omit<SourceUser, 'externalId'> | null)[];
  groups: (Omit<SourceGroup, 'externalId'> | null)[];
}
const slots = <T>(arb: fc.Arbitrary<T>, n: number) =>
  fc.array(fc.option(arb, { nil: null, freq: 4 }), { minLength: n, maxLength: n });
const snapshotSlots: fc.Arbitrary<Slots> = fc.record({
  users: slots(userFields, USER_SLOTS),
  groups: slots(groupFields, GROUP_SLOTS),
});

function toSnapshot(s: Slots): SourceSnapshot {
  return {
    users: s.users.flatMap((u, i) => (u ? [{ externalId: `ext-${i}`, ...u }] : [])),
    groups: s.groups.flatMap((g, i) => (g ? [{ externalId: `gext-${i}`, ...g }] : [])),
  };
}

/** The second snapshot: each slot keeps the first snapshot's object (mostly), takes the other's, or is dropped. */
function nextSlots(first: Slots, other: Slots, choice: number[]): Slots {
  const pick = <T>(a: T[], b: T[], offset: number) =>
    a.map((v, i) => {
      const c = choice[(i + offset) % choice.length] ?? 0;
      return c < 6 ? v : c < 8 ? (b[i] ?? null) : null;
    });
  return { users: pick(first.users, other.users, 0), groups: pick(first.groups, other.groups, USER_SLOTS) };
}

const policy: fc.Arbitrary<SyncPolicy> = fc.record({
  what: fc.record({ users: mostly(true), distribution: mostly(true), security: mostly(true) }),
  how: fc.record({
    addUsers: mostly(true),
    updateUsers: mostly(true),
    addGroups: mostly(true),
    updateGroups: mostly(true),
    removeUsers: fc.boolean(),
    removeGroups: fc.boolean(),
  }),
  defaultRole: fc.constantFrom('end_user' as const, 'silent_user' as const),
  blockedMailboxes: fc.constantFrom('deliver' as const, 'reject' as const),
  includeGuests: fc.boolean(),
});

const handMadeUser = fc.record({
  email: address,
  aliases: fc.array(address, { maxLength: 2 }),
  source: fc.constantFrom('manual' as const, 'manual' as const, 'entra' as const),
  externalId: fc.option(fc.constantFrom(...USER_IDS), { nil: null, freq: 1 }),
  exempt: fc.boolean(),
  status: fc.constantFrom('active' as const, 'inactive' as const),
  role: fc.constantFrom('end_user' as const, 'silent_user' as const, 'org_admin' as const),
});
const handMadeGroup = fc.record({
  email: fc.option(address, { nil: null }),
  aliases: fc.array(address, { maxLength: 2 }),
  source: fc.constantFrom('manual' as const, 'manual' as const, 'entra' as const),
  externalId: fc.option(fc.constantFrom(...GROUP_IDS), { nil: null, freq: 1 }),
  exempt: fc.boolean(),
  kind: fc.constantFrom('security' as const, 'distribution' as const),
  members: fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 4 }),
});

const draw = fc.record({
  domains: fc.oneof(
    { weight: 4, arbitrary: fc.constant<string[]>(['contoso.com', 'Contoso.onmicrosoft.com']) },
    {
      weight: 1,
      arbitrary: fc.subarray(['contoso.com', 'Fabrikam.com', 'contoso.onmicrosoft.com', 'bad domain']),
    },
  ),
  pendingDomains: fc.subarray(['pending.contoso.com', 'fabrikam.com']),
  first: snapshotSlots,
  other: snapshotSlots,
  choice: fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 20 }),
  firstPolicy: fc.oneof({ weight: 3, arbitrary: fc.constant(ALL_ON) }, { weight: 1, arbitrary: policy }),
  untick: fc.array(fc.boolean(), { maxLength: 40 }),
  handUsers: fc.array(handMadeUser, { maxLength: 5 }),
  handGroups: fc.array(handMadeGroup, { maxLength: 3 }),
  edits: fc.array(fc.integer({ min: 0, max: 12 }), { maxLength: 40 }),
  policy,
});
type Draw = typeof draw extends fc.Arbitrary<infer T> ? T : never;

interface Scenario {
  current: CurrentDirectory;
  source: SourceSnapshot;
  policy: SyncPolicy;
}

function scenario(d: Draw): Scenario {
  const base: CurrentDirectory = {
    orgId: 'org-1',
    domains: d.domains,
    pendingDomains: d.pendingDomains,
    users: [],
    groups: [],
  };
  d.handUsers.forEach((h, i) => {
    const email = normalizeAddress(h.email);
    if (!email) return;
    const aliases = h.aliases.flatMap((a) => normalizeAddress(a) ?? []);
    base.users.push(dirUser(`h${i}`, { ...h, email, aliases }));
  });
  d.handGroups.forEach((h, i) => {
    const email = h.email === null ? null : normalizeAddress(h.email);
    const aliases = h.aliases.flatMap((a) => normalizeAddress(a) ?? []);
    // Members by index: a hand-made user, another hand-made group, or an id nothing has.
    const members = h.members.map((m) =>
      m < base.users.length
        ? { type: 'user' as const, id: base.users[m]!.id }
        : { type: 'group' as const, id: m % 2 ? `g-h${m % 4}` : `g-nothing${m}` },
    );
    base.groups.push(dirGroup(`h${i}`, { ...h, email, aliases, members }));
  });
  const first = plan(base, toSnapshot(d.first), d.firstPolicy);
  const excluded = allChanges(first)
    .map((c) => c.id)
    .filter((_, i) => d.untick[i] === true);
  const synced = applyInMemory(base, first, excluded);
  // Hand edits after the first sync, by position in id order (row order is shuffled separately).
  const users = [...synced.users].sort((a, b) => (a.id < b.id ? -1 : 1));
  const groups = [...synced.groups].sort((a, b) => (a.id < b.id ? -1 : 1));
  [...users, ...groups].forEach((o: User | Group, i) => {
    const edit = d.edits[i] ?? 0;
    const isUser = 'role' in o;
    if (edit === 1) o.exempt = true;
    else if (edit === 2) o.aliases = [...o.aliases, 'info@contoso.com'];
    else if (edit === 3 && isUser) o.status = o.status === 'active' ? 'inactive' : 'active';
    else if (edit === 3 && !isUser) o.name = 'Renamed';
    else if (edit === 4 && isUser) o.displayName = 'Renamed';
    else if (edit === 4 && !isUser) o.members = [...o.members].reverse().slice(1);
    else if (edit === 5) o.email = isUser ? 'sales@contoso.com' : 'c@contoso.com';
    else if (edit === 6) o.aliases = [...o.aliases].reverse();
    else if (edit === 7 && !isUser)
      o.members = [...o.members, { type: 'user', id: users[0]?.id ?? 'u-nobody' }];
    else if (edit === 8) o.source = 'manual';
  });
  return {
    current: {
      ...synced,
      users,
      groups,
    },
    source: toSnapshot(nextSlots(d.first, d.other, d.choice)),
    policy: d.policy,
  };
}

const scenarios = draw.map(scenario);
const run = (s: Scenario, current = s.current, source = s.source): Plan => plan(current, source, s.policy);

/** A permutation of `items`, drawn. */
const permutation = <T>(items: T[]) =>
  fc.shuffledSubarray(items, { minLength: items.length, maxLength: items.length });

// --- Properties -------------------------------------------------------------------------------

describe('plan(): properties over generated directories and snapshots', () => {
  it('does not depend on the order of users, groups or members in either input', () => {
    const shuffled = scenarios.chain((s) =>
      fc.record({
        s: fc.constant(s),
        users: permutation(s.current.users),
        groups: permutation(s.current.groups),
        sourceUsers: permutation(s.source.users),
        sourceGroups: permutation(
          s.source.groups.map((g) => ({ ...g, memberUserIds: [...g.memberUserIds].reverse() })),
        ),
      }),
    );
    fc.assert(
      fc.property(shuffled, ({ s, users, groups, sourceUsers, sourceGroups }) => {
        const reordered = run(
          s,
          { ...s.current, users, groups },
          { users: sourceUsers, groups: sourceGroups },
        );
        expect(reordered).toEqual(run(s));
      }),
      { numRuns: RUNS },
    );
  });

  it('gives every change an id of its own, the same each time the same input is planned', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const ids = allChanges(run(s)).map((c) => c.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(allChanges(run(structuredClone(s))).map((c) => c.id)).toEqual(ids);
      }),
      { numRuns: RUNS },
    );
  });

  it('never gives an object an address another object holds now, nor two objects one address', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        const p = run(s);
        const holders = new Map<string, Set<string>>();
        for (const o of [...s.current.users, ...s.current.groups]) {
          for (const a of [o.email, ...o.aliases]) {
            if (a !== null) holders.set(a, (holders.get(a) ?? new Set()).add(o.id));
          }
        }
        const given = new Map<string, string>();
        const check = (target: string, addresses: (string | null | undefined)[]) => {
          for (const a of addresses) {
            if (a === null || a === undefined) continue;
            expect(given.get(a) ?? target).toBe(target);
            given.set(a, target);
            // An address the object keeps is not judged again (a corrupt directory may list it
            // twice: the smallest id holds it); one it gains must be free.
            if (holders.get(a)?.has(target)) continue;
            expect([...(holders.get(a) ?? [])]).toEqual([]);
          }
        };
        for (const c of p.usersToAdd) check(`new:${c.externalId}`, [c.user.email, ...c.user.aliases]);
        for (const c of p.usersToUpdate) check(c.userId, [c.after.email, ...(c.after.aliases ?? [])]);
        for (const c of p.groupsToAdd) check(`new:${c.externalId}`, [c.group.email, ...c.group.aliases]);
        for (const c of p.groupsToUpdate) check(c.groupId, [c.after.email, ...(c.after.aliases ?? [])]);
      }),
      { numRuns: RUNS },
    );
  });

  it('converges: applying each plan and planning again soon leaves nothing to do', () => {
    fc.assert(
      fc.property(scenarios, (s) => {
        // An address released by one run is given by the next (addresses are judged against the
        // directory as it is), so a chain of moves takes a run per link; any more would loop.
        const bound = 2 + s.source.users.length + s.source.groups.length;
        let current = s.current;
        let p = run(s, current);
        let runs = 0;
        while (!isEmptyPlan(p) && runs < bound) {
          current = applyInMemory(current, p);
          p = run(s, current);
          runs++;
        }
        expect(isEmptyPlan(p)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
