import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/directory/errors.js';
import {
  DEFAULT_HOW,
  DEFAULT_WHAT,
  defaultPolicy,
  formatHow,
  formatWhat,
  HOW_WORDS,
  parseHow,
  parseWhat,
} from '../../src/sync/policy.js';

describe('sync policy words', () => {
  it('parses --what and --how, in any order and case, with spaces', () => {
    expect(parseWhat('security, Users')).toEqual({ users: true, distribution: false, security: true });
    expect(parseHow('remove-groups,add-users')).toEqual({
      addUsers: true,
      updateUsers: false,
      addGroups: false,
      updateGroups: false,
      removeUsers: false,
      removeGroups: true,
    });
  });

  it('accepts the API form (an array of the same words)', () => {
    expect(parseWhat(['distribution'])).toEqual({ users: false, distribution: true, security: false });
    expect(parseHow(['update-users', 'update-groups'])).toMatchObject({
      updateUsers: true,
      updateGroups: true,
      addUsers: false,
    });
  });

  it('round-trips every value through format and parse, including none and all', () => {
    for (let mask = 0; mask < 64; mask++) {
      const how = parseHow(HOW_WORDS.filter((_, i) => mask & (1 << i)).join(',') || 'none');
      expect(parseHow(formatHow(how))).toEqual(how);
    }
    expect(formatHow(parseHow('all'))).toBe(HOW_WORDS.join(','));
    expect(formatWhat(parseWhat('none'))).toBe('none');
    expect(formatWhat(DEFAULT_WHAT)).toBe('users,distribution,security');
  });

  it('rejects unknown words with a field error that lists the allowed words', () => {
    let error: unknown;
    try {
      parseHow('add-users,delete-users');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'invalid_input', field: 'how' });
    expect((error as Error).message).toContain('"delete-users"');
    expect((error as Error).message).toContain('remove-users');
    expect(() => parseWhat('users,guests')).toThrow(/"guests" is not known for --what/);
  });

  it('rejects an empty list instead of reading it as "nothing"', () => {
    expect(() => parseWhat('')).toThrow(/empty/);
    expect(() => parseHow(' , ')).toThrow(/empty/);
    expect(() => parseWhat([])).toThrow(/empty/);
  });

  it('defaults: everything in scope, adds and updates on, removals off, end users, blocked mailboxes delivered, no guests', () => {
    expect(defaultPolicy()).toEqual({
      what: { users: true, distribution: true, security: true },
      how: {
        addUsers: true,
        updateUsers: true,
        addGroups: true,
        updateGroups: true,
        removeUsers: false,
        removeGroups: false,
      },
      defaultRole: 'end_user',
      blockedMailboxes: 'deliver',
      includeGuests: false,
    });
    expect(formatHow(DEFAULT_HOW)).toBe('add-users,update-users,add-groups,update-groups');
    // Each call gets its own copy: a caller changing it cannot change the defaults.
    defaultPolicy().how.removeUsers = true;
    expect(defaultPolicy().how.removeUsers).toBe(false);
  });
});
