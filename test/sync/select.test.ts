import { describe, expect, it } from 'vitest';
import type { Change } from '../../src/sync/changes.js';
import { plan } from '../../src/sync/plan.js';
import { allChanges, selectChanges } from '../../src/sync/select.js';
import {
  ALL_ON,
  applyInMemory,
  directory,
  dirGroup,
  dirUser,
  snapshot,
  srcGroup,
  srcUser,
} from './fixtures.js';

const dir = directory(
  [dirUser('changed'), dirUser('gone')],
  [dirGroup('changed', { members: [{ type: 'user', id: 'u-gone' }] }), dirGroup('gone')],
);
const src = snapshot(
  [srcUser('changed', { displayName: 'Renamed' }), srcUser('new'), srcUser('new2')],
  [
    srcGroup('changed', { memberUserIds: ['ext-new', 'ext-changed'] }),
    srcGroup('new', { memberUserIds: ['ext-new2'], memberGroupIds: ['gext-changed'] }),
    srcGroup('empty'),
  ],
);

describe('selectChanges', () => {
  it('orders the steps: create groups, users, group fields, memberships, removals last', () => {
    const p = plan(dir, src, ALL_ON);
    const { steps, excluded } = selectChanges(p, []);
    expect(steps.map((s) => [s.step, s.changes.map((c) => c.externalId)])).toEqual([
      ['create_groups', ['gext-empty', 'gext-new']],
      // Sorted by address: new2@ comes before new@.
      ['add_users', ['ext-new2', 'ext-new']],
      ['update_users', ['ext-changed']],
      ['update_groups', ['gext-changed']],
      // An added group without members needs no membership write.
      ['set_memberships', ['gext-new', 'gext-changed']],
      ['remove_groups', ['gext-gone']],
      ['remove_users', ['ext-gone']],
    ]);
    expect(excluded).toEqual([]);
  });

  it('leaves out exactly the unticked changes, and lists them', () => {
    const p = plan(dir, src, ALL_ON);
    const untick = [p.usersToAdd[0]!.id, p.groupsToRemove[0]!.id];
    const { steps, excluded } = selectChanges(p, untick);
    const selected = steps
      .flatMap((s): Change[] => (s.step === 'set_memberships' ? [] : s.changes))
      .map((c) => c.id);
    expect(new Set(selected)).toEqual(
      new Set(
        allChanges(p)
          .map((c) => c.id)
          .filter((id) => !untick.includes(id)),
      ),
    );
    expect(excluded.map((c) => c.id).sort()).toEqual([...untick].sort());
  });

  it('unticked changes are planned again, with the same ids, after the rest is applied', () => {
    const p = plan(dir, src, ALL_ON);
    const untick = [p.usersToAdd.find((c) => c.externalId === 'ext-new')!.id, p.usersToRemove[0]!.id];
    const next = plan(applyInMemory(dir, p, untick), src, ALL_ON);
    expect(next.usersToAdd.map((c) => c.id)).toEqual([untick[0]]);
    expect(next.usersToRemove.map((c) => c.id)).toEqual([untick[1]]);
    // The group that should contain the unticked user now gets it as a membership change.
    expect(next.groupsToUpdate.map((c) => c.membersAdded.map((m) => m.externalId))).toEqual([['ext-new']]);
  });

  it('refuses ids that are not in the plan instead of ignoring them', () => {
    const p = plan(dir, src, ALL_ON);
    expect(() => selectChanges(p, ['uu_0000000000000000'])).toThrow(
      /uu_0000000000000000 is not a change of this plan/,
    );
  });
});
