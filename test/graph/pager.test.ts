import { describe, expect, it } from 'vitest';
import { parsePage } from '../../src/graph/pager.js';
import { groupItemSchema, idItemSchema, userItemSchema } from '../../src/graph/schemas.js';

const ctx = { what: 'users delta', graphUrl: 'https://graph.microsoft.com', requestId: 'r-1' };

describe('parsePage', () => {
  it('reads a users delta page as Microsoft documents it (docs/graph-facts.md §3)', () => {
    const page = parsePage(
      {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#users(id,displayName)',
        '@odata.nextLink':
          'https://graph.microsoft.com/v1.0/users/delta?$skiptoken=pqwSUjGYvb3jQpbwVAwEL7yuI3dU1LecfkkfLPtnIjsXoYQp',
        value: [
          {
            id: '87d349ed-44d7-43e1-9a83-5f2406dee5bd',
            displayName: 'Adele Vance',
            userPrincipalName: 'a@x.com',
          },
          { id: 'a1b2c3d4-0000-0000-0000-000000000000', '@removed': { reason: 'changed' } },
        ],
      },
      userItemSchema,
      ctx,
    );
    expect(page.items).toHaveLength(2);
    expect(page.nextLink).toContain('$skiptoken=');
    expect(page.deltaLink).toBeUndefined();
  });

  it('keeps absent properties absent (a delta change carries only some)', () => {
    const page = parsePage({ value: [{ id: 'x', mail: null }] }, userItemSchema, ctx);
    const item = page.items[0]!;
    expect(Object.hasOwn(item, 'mail')).toBe(true);
    expect(Object.hasOwn(item, 'displayName')).toBe(false);
  });

  it('reads members@delta entries of a groups delta page', () => {
    const page = parsePage(
      {
        '@odata.deltaLink': 'https://graph.microsoft.com/v1.0/groups/delta?$deltatoken=abc',
        value: [
          {
            id: 'g',
            displayName: 'G',
            mailEnabled: false,
            securityEnabled: true,
            'members@delta': [{ '@odata.type': '#microsoft.graph.user', id: 'u' }],
          },
        ],
      },
      groupItemSchema,
      ctx,
    );
    expect(page.deltaLink).toContain('$deltatoken=abc');
    expect(page.items[0]?.['members@delta']).toEqual([{ '@odata.type': '#microsoft.graph.user', id: 'u' }]);
  });

  it.each([
    [
      'no value array',
      { '@odata.nextLink': 'https://graph.microsoft.com/v1.0/users?$skiptoken=1' },
      /page\.value/,
    ],
    [
      'both links',
      {
        value: [],
        '@odata.nextLink': 'https://graph.microsoft.com/a',
        '@odata.deltaLink': 'https://graph.microsoft.com/b',
      },
      /both/,
    ],
    [
      'a link to another host',
      { value: [], '@odata.nextLink': 'https://evil.example/v1.0/users' },
      /evil\.example/,
    ],
    ['a relative link', { value: [], '@odata.nextLink': '/v1.0/users?$skiptoken=1' }, /absolute/],
    ['an item without id', { value: [{ displayName: 'x' }] }, /value\[0\]\.id/],
    [
      'a wrongly typed property',
      { value: [{ id: 'x', accountEnabled: 'yes' }] },
      /value\[0\]\.accountEnabled/,
    ],
    [
      'proxyAddresses not strings',
      { value: [{ id: 'x', proxyAddresses: [1] }] },
      /value\[0\]\.proxyAddresses\[0\]/,
    ],
    ['not an object', 'oops', /page/],
  ])('rejects %s as malformed_payload, naming the place and request', (_name, body, message) => {
    try {
      parsePage(body, userItemSchema, ctx);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'malformed_payload' });
      expect((error as Error & { detail: string }).detail).toMatch(message);
      expect((error as Error & { detail: string }).detail).toContain('request-id r-1');
    }
  });

  it('rejects a member entry without @odata.type', () => {
    expect(() =>
      parsePage({ value: [{ id: 'g', 'members@delta': [{ id: 'u' }] }] }, groupItemSchema, ctx),
    ).toThrow(/members@delta\[0\]\.@odata\.type/);
  });

  it('reads a probe page of ids', () => {
    expect(
      parsePage({ value: [{ id: 'a', '@odata.type': '#microsoft.graph.user' }] }, idItemSchema, ctx).items,
    ).toEqual([{ id: 'a', '@odata.type': '#microsoft.graph.user' }]);
  });
});
