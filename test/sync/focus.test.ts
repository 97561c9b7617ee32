import { describe, expect, it } from 'vitest';
import { changedObjects, closeFocus, directoryKeys, indexSources, recordsOf } from '../../src/sync/focus.js';
import { srcGroup, srcUser } from './fixtures.js';

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
});
