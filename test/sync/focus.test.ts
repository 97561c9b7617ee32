import { describe, expect, it } from 'vitest';
import {
  closeFocus,
  deltaRelations,
  directoryKeys,
  indexRelations,
  indexSources,
  judge,
  type MirrorLookup,
  WholeGroupNeeded,
} from '../../src/sync/focus.js';
import { plan } from '../../src/sync/plan.js';
import { deltaIds, type SourceSnapshot, sourceDelta } from '../../src/sync/source.js';
import { ALL_ON, directory, dirGroup, dirUser, srcGroup, srcUser } from './fixtures.js';

/** A mirror in memory, asked by key as the source mirror's tables are (src/store/source-repository.ts). */
function memoryMirror(snapshot: SourceSnapshot): MirrorLookup {
  const index = indexSources([snapshot]);
  const all = (v: string | string[] | undefined) => (v === undefined ? [] : typeof v === 'string' ? [v] : v);
  return {
    users: async (ids) => ids.flatMap((id) => index.users.get(id) ?? []),
    groups: async (ids) => ids.flatMap((id) => index.groups.get(id) ?? []),
    claimants: async (keys) =>
      keys.flatMap((key) =>
        all(index.claims.get(key)).map((node) => ({
          key,
          type: node[0] === 'u' ? ('user' as const) : ('group' as const),
          externalId: node.slice(1),
        })),
      ),
    listers: async (type, ids) =>
      ids.flatMap((id) =>
        all((type === 'user' ? index.userListers : index.groupListers).get(id)).map((groupId) => ({
          memberId: id,
          groupId,
        })),
      ),
  };
}

/** The delta from `before` to `after`, its changed ids, and the relations a focus is closed over. */
function deltaOf(before: SourceSnapshot, after: SourceSnapshot) {
  const delta = sourceDelta(before, after);
  return { delta, changed: deltaIds(delta), relations: deltaRelations(memoryMirror(before), delta) };
}

/** The focus computation of src/sync/focus.ts; its equality with full planning is test/sync/focused-plan.test.ts. */
describe('focus', () => {
  const a = srcUser('a');
  const b = srcUser('b');
  const c = srcUser('c', { proxyAddresses: ['SMTP:c@contoso.com', 'smtp:B@Contoso.com.'] });
  const d = srcUser('d');
  const inner = srcGroup('inner', { memberUserIds: ['ext-d'] });
  const g = srcGroup('g', { memberUserIds: ['ext-b'], memberGroupIds: ['gext-inner'] });
  const h = srcGroup('h', { memberUserIds: ['ext-a'] });
  const before = { users: [a, b, c, d], groups: [g, h, inner] };

  it('finds the records that changed, appeared or vanished', () => {
    const e = srcUser('e');
    const after = { users: [a, { ...b, displayName: 'B' }, c, e], groups: [{ ...g }, h, inner] };
    const { changed } = deltaOf(before, after);
    expect([...changed.users].sort()).toEqual(['ext-b', 'ext-d', 'ext-e']);
    expect([...changed.groups]).toEqual([]);
  });

  it('closes over address sharers, groups listing a changed object, and the groups those list', async () => {
    const after = { users: [a, { ...b, displayName: 'B' }, c, d], groups: [g, h, inner] };
    const { changed, relations } = deltaOf(before, after);
    const focus = await closeFocus(changed, relations);
    // c claims b's address (spelt otherwise); g lists b, and lists inner (needed to judge g).
    expect([...focus.users].sort()).toEqual(['ext-b', 'ext-c']);
    expect([...focus.groups].sort()).toEqual(['gext-g', 'gext-inner']);
    // A group judged only for its member list does not spread to the groups listing it.
    expect(focus.groups.has('gext-h')).toBe(false);
    // Closed over both sources in memory, the focus is the same.
    const inMemory = await closeFocus(changed, indexRelations(indexSources([after, before])));
    expect([inMemory.users, inMemory.groups]).toEqual([focus.users, focus.groups]);
    const keys = directoryKeys(focus, focus.records);
    // Members of focused groups are read to refer to them; addresses to find their holders.
    expect(keys.userExternalIds.sort()).toEqual(['ext-b', 'ext-c']);
    expect(keys.memberExternalIds.sort()).toEqual(['ext-d']);
    expect(keys.addresses.sort()).toEqual(['b@contoso.com', 'b@contoso.onmicrosoft.com', 'c@contoso.com']);
  });

  it('closes a seed the delta did not change over the delta’s new records: a new claimant of its address, a new lister', async () => {
    // a is unsteady (left from the last apply), not changed; b now claims a's address, n lists a.
    const n = srcGroup('n', { memberUserIds: ['ext-a'] });
    const after = {
      users: [a, { ...b, proxyAddresses: [...b.proxyAddresses, 'smtp:A@contoso.com'] }, c, d],
      groups: [g, h, inner, n],
    };
    const { relations } = deltaOf(before, after);
    const focus = await closeFocus({ users: new Set(['ext-a']), groups: new Set() }, relations);
    expect([...focus.users].sort()).toEqual(['ext-a', 'ext-b', 'ext-c']);
    expect([...focus.groups].sort()).toEqual(['gext-g', 'gext-h', 'gext-inner', 'gext-n']);
  });

  it('keeps an unchanged tenant out of the focus', async () => {
    const { changed, relations } = deltaOf(before, structuredClone(before));
    const focus = await closeFocus(changed, relations);
    expect(focus.users.size + focus.groups.size).toBe(0);
  });

  it('reads a group judged only as a lister in part, and it brings no groups of its own', async () => {
    const after = { users: [a, { ...b, displayName: 'B' }, c, d], groups: [g, h, inner] };
    const { changed, relations } = deltaOf(before, after);
    const focus = await closeFocus(changed, relations, {
      readInPart: { whole: new Set(), changed: changed.groups },
    });
    expect([...focus.groups]).toEqual(['gext-g']);
    expect([...focus.readInPart]).toEqual(['gext-g']);
    const keys = directoryKeys(focus, focus.records);
    expect(keys.groupExternalIds).toEqual([]);
    expect(keys.partialGroupExternalIds).toEqual(['gext-g']);
    // Its other members are not read: only the focused ones can change in it.
    expect(keys.memberExternalIds).toEqual([]);
  });

  it('reads a steady group whose member list changed in part, with the members it gained or lost', async () => {
    const after = { users: [a, b, c, d], groups: [{ ...g, memberUserIds: ['ext-b', 'ext-d'] }, h, inner] };
    const { changed, relations } = deltaOf(before, after);
    const focus = await closeFocus(changed, relations, {
      readInPart: { whole: new Set(), changed: changed.groups },
    });
    expect([...focus.readInPart]).toEqual(['gext-g']);
    expect(focus.memberDelta.get('gext-g')).toEqual({ users: new Set(['ext-d']), groups: new Set() });
    // d is read as the member g gained; inner, listed before and after, is not read at all.
    expect(directoryKeys(focus, focus.records).deltaMemberExternalIds).toEqual(['ext-d']);
    expect(focus.groups.has('gext-inner')).toBe(false);
    // An unsteady group is read whole, and brings the groups it lists …
    const whole = await closeFocus(changed, relations, {
      readInPart: { whole: new Set(['gext-g']), changed: changed.groups },
    });
    expect(whole.groups.has('gext-inner')).toBe(true);
    // … and inner, needed only for how g lists it, is itself steady: read in part.
    expect([...whole.readInPart]).toEqual(['gext-inner']);
  });

  describe('a group read in part', () => {
    // g lists a, b, c, d and x (unknown to the directory); b was deleted in Entra.
    const users = ['a', 'b', 'c', 'd'].map((k) => dirUser(k));
    const listed = srcGroup('g', { memberUserIds: ['ext-a', 'ext-b', 'ext-c', 'ext-d', 'ext-x'] });
    const whole = dirGroup('g', { members: users.map((u) => ({ type: 'user' as const, id: u.id })) });
    const source = { users: [a, c, d], groups: [listed] };
    const focus = { users: new Set(['ext-b']), groups: new Set(['gext-g']), readInPart: new Set(['gext-g']) };

    it('changes as the whole group would: the focused member removed, the rest left out counted', () => {
      const full = plan(directory(users, [whole]), source, ALL_ON);
      const inPart = {
        ...directory([users[1]!], [{ ...whole, members: [{ type: 'user' as const, id: 'u-b' }] }]),
        memberTotals: new Map([['g-g', 4]]),
      };
      const judged = judge(inPart, source, ALL_ON, focus);
      expect(judged.groupsToUpdate).toEqual(full.groupsToUpdate);
      expect(judged.groupsToUpdate[0]).toMatchObject({
        membersRemoved: [expect.objectContaining({ id: 'u-b' })],
        membersLeftOut: 2,
      });
    });

    it('that the directory does not hold says its whole member list is needed', () => {
      const inPart = { ...directory([users[1]!], []), memberTotals: new Map<string, number>() };
      expect(() => judge(inPart, source, ALL_ON, focus)).toThrow(WholeGroupNeeded);
    });
  });
});
