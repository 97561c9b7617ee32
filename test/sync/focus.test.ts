import { describe, expect, it } from 'vitest';
import {
  changedObjects,
  closeFocus,
  directoryKeys,
  indexSources,
  judge,
  recordsOf,
  WholeGroupNeeded,
} from '../../src/sync/focus.js';
import { plan } from '../../src/sync/plan.js';
import { ALL_ON, directory, dirGroup, dirUser, srcGroup, srcUser } from './fixtures.js';

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
    const changed = changedObjects(before, after);
    expect([...changed.users].sort()).toEqual(['ext-b', 'ext-d', 'ext-e']);
    expect([...changed.groups]).toEqual([]);
  });

  it('closes over address sharers, groups listing a changed object, and the groups those list', () => {
    const after = { users: [a, { ...b, displayName: 'B' }, c, d], groups: [g, h, inner] };
    const changed = changedObjects(before, after);
    const index = indexSources([after, recordsOf(before, changed)]);
    const focus = closeFocus(changed, index);
    // c claims b's address (spelt otherwise); g lists b, and lists inner (needed to judge g).
    expect([...focus.users].sort()).toEqual(['ext-b', 'ext-c']);
    expect([...focus.groups].sort()).toEqual(['gext-g', 'gext-inner']);
    // A group judged only for its member list does not spread to the groups listing it.
    expect(focus.groups.has('gext-h')).toBe(false);
    const keys = directoryKeys(focus, index);
    // Members of focused groups are read to refer to them; addresses to find their holders.
    expect(keys.userExternalIds.sort()).toEqual(['ext-b', 'ext-c']);
    expect(keys.memberExternalIds.sort()).toEqual(['ext-d']);
    expect(keys.addresses.sort()).toEqual(['b@contoso.com', 'b@contoso.onmicrosoft.com', 'c@contoso.com']);
  });

  it('keeps an unchanged tenant out of the focus', () => {
    const index = indexSources([before]);
    const focus = closeFocus(changedObjects(before, structuredClone(before)), index);
    expect(focus.users.size + focus.groups.size).toBe(0);
  });

  it('reads a group judged only as a lister in part, and it brings no groups of its own', () => {
    const after = { users: [a, { ...b, displayName: 'B' }, c, d], groups: [g, h, inner] };
    const changed = changedObjects(before, after);
    const index = indexSources([after, recordsOf(before, changed)]);
    const focus = closeFocus(changed, index, { readInPart: { whole: new Set(), changed: changed.groups } });
    expect([...focus.groups]).toEqual(['gext-g']);
    expect([...focus.readInPart]).toEqual(['gext-g']);
    const keys = directoryKeys(focus, index);
    expect(keys.groupExternalIds).toEqual([]);
    expect(keys.partialGroupExternalIds).toEqual(['gext-g']);
    // Its other members are not read: only the focused ones can change in it.
    expect(keys.memberExternalIds).toEqual([]);
  });

  it('reads a steady group whose member list changed in part, with the members it gained or lost', () => {
    const after = { users: [a, b, c, d], groups: [{ ...g, memberUserIds: ['ext-b', 'ext-d'] }, h, inner] };
    const changed = changedObjects(before, after);
    const index = indexSources([after, recordsOf(before, changed)]);
    const focus = closeFocus(changed, index, { readInPart: { whole: new Set(), changed: changed.groups } });
    expect([...focus.readInPart]).toEqual(['gext-g']);
    expect(focus.memberDelta.get('gext-g')).toEqual({ users: new Set(['ext-d']), groups: new Set() });
    // d is read as the member g gained; inner, listed before and after, is not read at all.
    expect(directoryKeys(focus, index).deltaMemberExternalIds).toEqual(['ext-d']);
    expect(focus.groups.has('gext-inner')).toBe(false);
    // An unsteady group is read whole, and brings the groups it lists …
    const whole = closeFocus(changed, index, {
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
