import { describe, expect, it } from 'vitest';
import { GroupDelta, UserDelta } from '../../src/graph/delta.js';
import { GraphError } from '../../src/graph/errors.js';
import { parsePage } from '../../src/graph/pager.js';
import { type GroupItem, groupItemSchema, type UserItem, userItemSchema } from '../../src/graph/schemas.js';
import type { SourceGroup, SourceUser } from '../../src/sync/source.js';

const ctx = { what: 'test', graphUrl: 'https://graph.microsoft.com' };
const users = (value: unknown[]): UserItem[] =>
  parsePage({ value, '@odata.nextLink': undefined }, userItemSchema, ctx).items;
const groups = (value: unknown[]): GroupItem[] => parsePage({ value }, groupItemSchema, ctx).items;

const U1 = '11111111-1111-1111-1111-111111111111';
const U2 = '22222222-2222-2222-2222-222222222222';
const G1 = 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa';
const G2 = 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb';

const adele = {
  id: U1,
  userPrincipalName: 'AdeleV@contoso.com',
  userType: 'Member',
  accountEnabled: true,
  mail: 'AdeleV@contoso.com',
  proxyAddresses: ['SMTP:AdeleV@contoso.com', 'smtp:adele@contoso.onmicrosoft.com', 'SIP:adelev@contoso.com'],
  givenName: 'Adele',
  surname: 'Vance',
  displayName: 'Adele Vance',
};
const adeleRecord: SourceUser = {
  externalId: U1,
  userPrincipalName: 'AdeleV@contoso.com',
  userType: 'Member',
  accountEnabled: true,
  mail: 'AdeleV@contoso.com',
  proxyAddresses: ['SMTP:AdeleV@contoso.com', 'smtp:adele@contoso.onmicrosoft.com', 'SIP:adelev@contoso.com'],
  givenName: 'Adele',
  surname: 'Vance',
  displayName: 'Adele Vance',
  mailbox: null,
};

describe('UserDelta', () => {
  it('maps an initial round, ignoring @removed entries in it (docs/graph-facts.md §3.2: they occur there too)', () => {
    const d = new UserDelta();
    d.apply(users([adele, { id: U2, '@removed': { reason: 'changed' } }]));
    expect(d.result()).toEqual([adeleRecord]);
  });

  it('defaults never-set optional properties to null / [] on a new user', () => {
    const d = new UserDelta();
    d.apply(users([{ id: U2, userPrincipalName: 'x@contoso.com', accountEnabled: false }]));
    expect(d.result()).toEqual([
      {
        externalId: U2,
        userPrincipalName: 'x@contoso.com',
        userType: null,
        accountEnabled: false,
        mail: null,
        proxyAddresses: [],
        givenName: null,
        surname: null,
        displayName: null,
        mailbox: null,
      },
    ]);
  });

  it('keeps the mailbox purpose of the previous snapshot: delta never carries it', () => {
    const d = new UserDelta([{ ...adeleRecord, accountEnabled: false, mailbox: 'shared' }]);
    d.apply(users([{ id: U1, displayName: 'Shared Inbox' }]));
    expect(d.result()).toEqual([
      { ...adeleRecord, accountEnabled: false, displayName: 'Shared Inbox', mailbox: 'shared' },
    ]);
  });

  it('merges a later round: present properties (null included) replace, absent ones stay', () => {
    const previous = [adeleRecord];
    const d = new UserDelta(previous);
    d.apply(users([{ id: U1, displayName: 'Adele Vance-Smith', givenName: null }]));
    expect(d.result()).toEqual([{ ...adeleRecord, displayName: 'Adele Vance-Smith', givenName: null }]);
    expect(previous[0]).toEqual(adeleRecord); // the caller's snapshot is not mutated
  });

  it('removes users deleted (soft or hard) in a later round, and applies replays idempotently', () => {
    const d = new UserDelta([adeleRecord]);
    const page = users([
      { id: U2, userPrincipalName: 'b@contoso.com', accountEnabled: true },
      { id: U1, '@removed': { reason: 'deleted' } },
    ]);
    d.apply(page);
    d.apply(page); // the same changes replayed on a later page
    expect(d.result().map((u) => u.externalId)).toEqual([U2]);
  });

  it('treats a restored user (removed, then back) as present', () => {
    const d = new UserDelta([adeleRecord]);
    d.apply(users([{ id: U1, '@removed': { reason: 'changed' } }, adele]));
    expect(d.result()).toEqual([adeleRecord]);
  });

  it('rejects a new user without accountEnabled or userPrincipalName as malformed', () => {
    const d = new UserDelta();
    expect(() => d.apply(users([{ id: U2, userPrincipalName: 'b@contoso.com' }]))).toThrow(
      expect.objectContaining({ code: 'malformed_payload' }),
    );
    expect(() => d.apply(users([{ id: U2, accountEnabled: true }]))).toThrow(GraphError);
  });
});

const sales = {
  id: G1,
  displayName: 'Sales',
  mail: 'sales@contoso.com',
  mailEnabled: true,
  securityEnabled: false,
  groupTypes: [],
  proxyAddresses: ['SMTP:sales@contoso.com'],
};
const salesRecord: SourceGroup = {
  externalId: G1,
  displayName: 'Sales',
  mail: 'sales@contoso.com',
  mailEnabled: true,
  securityEnabled: false,
  groupTypes: [],
  proxyAddresses: ['SMTP:sales@contoso.com'],
  memberUserIds: [U1, U2],
  memberGroupIds: [G2],
};

describe('GroupDelta', () => {
  it("merges a group's members@delta split over consecutive pages and drops contacts and devices", () => {
    const d = new GroupDelta();
    d.apply(
      groups([
        {
          ...sales,
          'members@delta': [
            { '@odata.type': '#microsoft.graph.user', id: U1 },
            { '@odata.type': '#microsoft.graph.orgContact', id: 'c1' },
          ],
        },
      ]),
    );
    d.apply(
      groups([
        {
          ...sales,
          'members@delta': [
            { '@odata.type': '#microsoft.graph.user', id: U2 },
            { '@odata.type': '#microsoft.graph.group', id: G2 },
            { '@odata.type': '#microsoft.graph.device', id: 'd1' },
            { '@odata.type': '#microsoft.graph.servicePrincipal', id: 's1' },
          ],
        },
      ]),
    );
    d.apply(groups([{ ...sales, id: G2, displayName: 'Empty', mail: null }]));
    expect(d.result()).toEqual([
      salesRecord,
      {
        ...salesRecord,
        externalId: G2,
        displayName: 'Empty',
        mail: null,
        memberUserIds: [],
        memberGroupIds: [],
      },
    ]);
  });

  it('applies member additions and @removed members on top of the previous membership', () => {
    const previous = [salesRecord];
    const d = new GroupDelta(previous);
    const page = groups([
      {
        id: G1,
        'members@delta': [
          { '@odata.type': '#microsoft.graph.user', id: U1, '@removed': { reason: 'deleted' } },
          { '@odata.type': '#microsoft.graph.group', id: G2, '@removed': { reason: 'deleted' } },
          { '@odata.type': '#microsoft.graph.user', id: '33333333-3333-3333-3333-333333333333' },
        ],
      },
    ]);
    d.apply(page);
    d.apply(page); // replay
    expect(d.result()).toEqual([
      {
        ...salesRecord,
        memberUserIds: ['33333333-3333-3333-3333-333333333333', U2].sort(),
        memberGroupIds: [],
      },
    ]);
    expect(previous[0]?.memberUserIds).toEqual([U1, U2]);
  });

  it('keeps members when a later round changes only properties, and removes deleted groups', () => {
    const d = new GroupDelta([salesRecord, { ...salesRecord, externalId: G2 }]);
    d.apply(
      groups([
        { id: G1, displayName: 'Sales EMEA' },
        { id: G2, '@removed': { reason: 'changed' } },
      ]),
    );
    expect(d.result()).toEqual([{ ...salesRecord, displayName: 'Sales EMEA' }]);
  });

  it('rejects a new group without displayName or mailEnabled as malformed', () => {
    const d = new GroupDelta();
    expect(() => d.apply(groups([{ id: G1, displayName: 'x', securityEnabled: true }]))).toThrow(
      expect.objectContaining({ code: 'malformed_payload' }),
    );
  });
});
