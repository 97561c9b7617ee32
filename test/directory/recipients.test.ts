import { describe, expect, it } from 'vitest';
import { entraStatus, recipientFacts, signInRefusal } from '../../src/directory/recipients.js';

describe('recipients as Exchange knows them', () => {
  it.each([
    // role, status, mailbox → deliverable, canSignIn, receivesDigests, billable
    ['end_user', 'active', 'user', [true, true, true, true]],
    ['end_user', 'active', null, [true, true, true, true]],
    ['org_admin', 'active', 'user', [true, true, true, true]],
    ['silent_user', 'active', 'user', [true, false, false, true]],
    ['end_user', 'active', 'shared', [true, false, false, false]],
    ['end_user', 'active', 'room', [true, false, false, false]],
    ['silent_user', 'active', 'equipment', [true, false, false, false]],
    ['end_user', 'inactive', 'user', [false, false, false, false]],
    ['end_user', 'inactive', 'shared', [false, false, false, false]],
  ] as const)(
    '%s, %s, %s mailbox',
    (role, status, mailbox, [deliverable, canSignIn, receivesDigests, billable]) => {
      const facts = recipientFacts({ role, status, mailbox });
      expect(facts).toEqual({
        functional: mailbox === 'shared' || mailbox === 'room' || mailbox === 'equipment',
        deliverable,
        canSignIn,
        receivesDigests,
        billable,
        signInRefusal: canSignIn ? null : expect.any(String),
      });
      expect(facts.signInRefusal).toBe(signInRefusal({ role, status, mailbox }));
    },
  );

  it('says why a user may not sign in', () => {
    expect(signInRefusal({ role: 'silent_user', status: 'active', mailbox: null })).toMatch(/Silent users/);
    expect(signInRefusal({ role: 'end_user', status: 'active', mailbox: 'room' })).toMatch(
      /room mailbox, not a person's/,
    );
    expect(signInRefusal({ role: 'end_user', status: 'inactive', mailbox: null })).toMatch(/inactive/);
  });

  it.each([
    [true, 'user', 'deliver', 'active', 'enabled'],
    [true, 'shared', 'reject', 'active', 'enabled'],
    [false, 'shared', 'reject', 'active', 'functional'],
    [false, 'room', 'reject', 'active', 'functional'],
    [false, 'equipment', 'reject', 'active', 'functional'],
    [false, 'user', 'deliver', 'inactive', 'person'],
    [false, 'linked', 'deliver', 'inactive', 'person'],
    [false, 'others', 'deliver', 'inactive', 'person'],
    [false, null, 'deliver', 'active', 'rule'],
    [false, null, 'reject', 'inactive', 'rule'],
  ] as const)('sign-in %s, %s mailbox, rule %s → %s (%s)', (enabled, mailbox, rule, status, decision) => {
    expect(entraStatus(enabled, mailbox, rule)).toEqual({ status, decision });
  });
});
