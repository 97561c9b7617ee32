import { describe, expect, it } from 'vitest';
import { effectiveMembers } from '../../src/directory/membership.js';
import type { Group, MemberRef } from '../../src/directory/model.js';

const group = (id: string, members: MemberRef[]): Group => ({
  id,
  orgId: 'o',
  name: id,
  kind: 'security',
  email: null,
  aliases: [],
  source: 'entra',
  externalId: null,
  exempt: false,
  members,
  createdAt: '',
  updatedAt: '',
});
const u = (id: string): MemberRef => ({ type: 'user', id });
const g = (id: string): MemberRef => ({ type: 'group', id });

describe('effectiveMembers', () => {
  it('returns direct and nested users, transitively', () => {
    const groups = [
      group('a', [u('1'), g('b')]),
      group('b', [u('2'), g('c')]),
      group('c', [u('3')]),
      group('d', [u('4')]),
    ];
    expect(effectiveMembers(groups, 'a')).toEqual(new Set(['1', '2', '3']));
    expect(effectiveMembers(groups, 'c')).toEqual(new Set(['3']));
  });

  it('terminates on cycles and includes everyone in the cycle', () => {
    const groups = [
      group('a', [u('1'), g('b')]),
      group('b', [u('2'), g('a')]),
      group('self', [g('self'), u('3')]),
    ];
    expect(effectiveMembers(groups, 'a')).toEqual(new Set(['1', '2']));
    expect(effectiveMembers(groups, 'b')).toEqual(new Set(['1', '2']));
    expect(effectiveMembers(groups, 'self')).toEqual(new Set(['3']));
  });

  it('ignores dangling group references and unknown groups', () => {
    const groups = [group('a', [u('1'), g('missing')])];
    expect(effectiveMembers(groups, 'a')).toEqual(new Set(['1']));
    expect(effectiveMembers(groups, 'nope')).toEqual(new Set());
  });
});
