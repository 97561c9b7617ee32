import { describe, expect, it } from 'vitest';
import {
  canActAsUser,
  canAdminOrg,
  canManageService,
  type Principal,
} from '../../src/directory/permissions.js';

const operator: Principal = { type: 'operator', id: 'op', email: 'admin@svc' };
const adminA: Principal = { type: 'user', id: 'u1', orgId: 'A', role: 'org_admin', email: 'a@a.com' };
const endUserA: Principal = { type: 'user', id: 'u2', orgId: 'A', role: 'end_user', email: 'e@a.com' };
const tokenA: Principal = { type: 'token', id: 't1', name: 'ci', orgId: 'A' };
const serviceToken: Principal = { type: 'token', id: 't2', name: 'ops', orgId: null };

describe('role permissions', () => {
  it.each([
    [operator, 'A', true],
    [operator, 'B', true],
    [adminA, 'A', true],
    [adminA, 'B', false],
    [endUserA, 'A', false],
    [tokenA, 'A', true],
    [tokenA, 'B', false],
    [serviceToken, 'B', true],
  ] as const)('canAdminOrg(%o, %s) = %s', (p, org, expected) => {
    expect(canAdminOrg(p, org)).toBe(expected);
  });

  it('only operators and service tokens manage the service', () => {
    expect([operator, adminA, endUserA, tokenA, serviceToken].map(canManageService)).toEqual([
      true,
      false,
      false,
      false,
      true,
    ]);
  });

  it('an end user acts only on their own profile', () => {
    expect(canActAsUser(endUserA, 'A', 'u2')).toBe(true);
    expect(canActAsUser(endUserA, 'A', 'u1')).toBe(false);
    expect(canActAsUser(endUserA, 'B', 'u2')).toBe(false);
    expect(canActAsUser(adminA, 'A', 'u2')).toBe(true);
  });
});
