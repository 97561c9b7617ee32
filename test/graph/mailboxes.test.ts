/** Which mailbox purposes a read needs, and what a $batch item's answer means (pure). */
import { describe, expect, it } from 'vitest';
import { grantsOptional, optionalPermissionHint } from '../../src/graph/errors.js';
import {
  deniesPermission,
  hasMailbox,
  planMailboxReads,
  purposeAnswer,
  purposeChanges,
  withPurposes,
} from '../../src/graph/mailboxes.js';
import type { SourceUser } from '../../src/sync/source.js';

const user = (id: string, extra: Partial<SourceUser> = {}): SourceUser => ({
  externalId: id,
  userPrincipalName: `${id}@contoso.com`,
  userType: 'Member',
  accountEnabled: false,
  mail: `${id}@contoso.com`,
  proxyAddresses: [`SMTP:${id}@contoso.com`, `smtp:${id}@contoso.onmicrosoft.com`],
  givenName: null,
  surname: null,
  displayName: id,
  mailbox: null,
  ...extra,
});

describe('hasMailbox', () => {
  it('is a mail or a primary SMTP: address; aliases and other types alone are not', () => {
    expect(hasMailbox({ mail: 'a@x.com', proxyAddresses: [] })).toBe(true);
    expect(hasMailbox({ mail: null, proxyAddresses: ['SMTP:a@x.com'] })).toBe(true);
    expect(hasMailbox({ mail: '  ', proxyAddresses: ['smtp:a@x.com', 'SIP:a@x.com'] })).toBe(false);
    expect(hasMailbox({ mail: null, proxyAddresses: ['SMTP:'] })).toBe(false);
  });
});

describe('planMailboxReads', () => {
  it('a full read reads only users with a mailbox and sign-in blocked', () => {
    const users = [
      user('blocked'),
      user('enabled', { accountEnabled: true }),
      user('nomailbox', { mail: null, proxyAddresses: [] }),
      user('aliasonly', { mail: null, proxyAddresses: ['SMTP:aliasonly@contoso.com'] }),
    ];
    const plan = planMailboxReads(users, undefined);
    expect(plan.toRead).toEqual(['blocked', 'aliasonly']);
    expect(plan.users).toEqual(users);
  });

  it('a delta read keeps known purposes and reads the unknown ones again', () => {
    const previous = [user('a', { mailbox: 'shared' }), user('b'), user('c', { accountEnabled: true })];
    const current = previous.map((u) => ({ ...u }));
    const plan = planMailboxReads(current, previous);
    expect(plan.toRead).toEqual(['b']);
    expect(plan.users.map((u) => u.mailbox)).toEqual(['shared', null, null]);
  });

  it.each([
    ['sign-in was allowed before', { accountEnabled: true }],
    ['mail changed', { mail: 'renamed@contoso.com' }],
    ['the primary address changed', { proxyAddresses: ['SMTP:renamed@contoso.com'] }],
  ])('re-reads a known purpose when %s, and forgets it until read', (_why, before) => {
    const previous = [{ ...user('a', { mailbox: 'room' }), ...before }];
    const plan = planMailboxReads([user('a', { mailbox: 'room' })], previous);
    expect(plan.toRead).toEqual(['a']);
    expect(plan.users[0]?.mailbox).toBeNull();
  });

  it('address changes without case, aliases and other types do not count as changed', () => {
    const previous = [user('a', { mailbox: 'room' })];
    const current = user('a', {
      mailbox: 'room',
      mail: 'A@CONTOSO.COM',
      proxyAddresses: ['SMTP:A@Contoso.com', 'smtp:new-alias@contoso.com', 'SIP:a@contoso.com'],
    });
    expect(planMailboxReads([current], previous).toRead).toEqual([]);
  });

  it('users with sign-in allowed keep their previous value, changed or not, and are never read', () => {
    const previous = [user('a', { mailbox: 'shared' })];
    const plan = planMailboxReads(
      [user('a', { accountEnabled: true, mail: 'x@contoso.com', mailbox: 'shared' })],
      previous,
    );
    expect(plan.toRead).toEqual([]);
    expect(plan.users[0]?.mailbox).toBe('shared');
  });

  it('a full read after an expired delta link carries the previous purposes over', () => {
    const previous = [user('a', { mailbox: 'equipment' }), user('b', { mailbox: 'user' })];
    // A fresh full round knows no purpose.
    const current = [user('a'), user('b', { mail: 'moved@contoso.com' }), user('c')];
    const plan = planMailboxReads(current, previous);
    expect(plan.toRead).toEqual(['b', 'c']);
    expect(plan.users.map((u) => u.mailbox)).toEqual(['equipment', null, null]);
  });

  it('fills in the purposes read; the rest stays as planned', () => {
    const plan = planMailboxReads([user('a'), user('b'), user('c', { accountEnabled: true })], undefined);
    const users = withPurposes(plan, new Map([['a', 'shared']]));
    expect(users.map((u) => [u.externalId, u.mailbox])).toEqual([
      ['a', 'shared'],
      ['b', null],
      ['c', null],
    ]);
  });

  it('counts users whose purpose differs from the previous snapshot', () => {
    const previous = [user('a', { mailbox: 'shared' }), user('b'), user('gone', { mailbox: 'room' })];
    const current = [user('a', { mailbox: 'shared' }), user('b', { mailbox: 'room' }), user('new')];
    expect(purposeChanges(current, previous)).toBe(1);
    expect(purposeChanges([user('a')], previous)).toBe(1);
  });
});

describe('purposeAnswer', () => {
  it('200: a documented purpose, or an unrecognized one (unknownFutureValue), or a malformed body', () => {
    const ok = (body: unknown) => purposeAnswer({ id: '1', status: 200, headers: {}, body });
    expect(ok({ '@odata.context': 'x', value: 'shared' })).toEqual({ kind: 'purpose', purpose: 'shared' });
    expect(ok({ value: 'unknownFutureValue' })).toMatchObject({ kind: 'unrecognized' });
    expect(ok({ value: 'Shared' })).toMatchObject({ kind: 'unrecognized' });
    expect(ok({ value: 3 })).toMatchObject({ kind: 'failed' });
    expect(ok(undefined)).toMatchObject({ kind: 'failed' });
  });

  it('429/503/504: retry, with the inner Retry-After under any spelling', () => {
    expect(purposeAnswer({ id: '1', status: 429, headers: { 'Retry-After': '7' }, body: {} })).toEqual({
      kind: 'retry',
      status: 429,
      retryAfter: '7',
    });
    expect(purposeAnswer({ id: '1', status: 503, headers: null, body: {} })).toEqual({
      kind: 'retry',
      status: 503,
      retryAfter: undefined,
    });
  });

  it("Exchange's 403 ErrorAccessDenied and 404 MailboxNotEnabledForRESTAPI; anything else fails", () => {
    const error = (status: number, code: string) =>
      purposeAnswer({ id: '1', status, body: { error: { code, message: 'm' } } });
    expect(error(403, 'ErrorAccessDenied')).toEqual({
      kind: 'access_denied',
      detail: '[ErrorAccessDenied] m',
    });
    expect(error(404, 'MailboxNotEnabledForRESTAPI')).toMatchObject({ kind: 'no_mailbox' });
    expect(error(404, 'mailboxNotEnabledForRESTAPI')).toMatchObject({ kind: 'no_mailbox' });
    expect(error(404, 'Request_ResourceNotFound')).toMatchObject({ kind: 'failed' });
    expect(error(403, 'Authorization_RequestDenied')).toMatchObject({ kind: 'failed' });
    expect(purposeAnswer({ id: '1', status: 500, body: 'oops' })).toEqual({
      kind: 'failed',
      detail: 'HTTP 500 without a Graph error body (HTTP 500)',
    });
  });

  it('a round denies the permission only when Exchange denied access and read nothing', () => {
    const denied = { kind: 'access_denied', detail: 'd' } as const;
    const read = { kind: 'purpose', purpose: 'user' } as const;
    const none = { kind: 'no_mailbox', detail: 'n' } as const;
    expect(deniesPermission([denied, none])).toBe(true);
    expect(deniesPermission([denied, read])).toBe(false);
    expect(deniesPermission([none])).toBe(false);
    expect(deniesPermission([])).toBe(false);
  });
});

describe('the optional MailboxSettings.Read permission', () => {
  it('is covered by MailboxSettings.Read or .ReadWrite', () => {
    expect(grantsOptional(['User.Read.All'], 'MailboxSettings.Read')).toBe(false);
    expect(grantsOptional([], 'MailboxSettings.Read')).toBe(false);
    // Directory.Read.All covers domains, not mailboxes (Exchange's own permission).
    expect(grantsOptional(['Directory.Read.All'], 'MailboxSettings.Read')).toBe(false);
    expect(grantsOptional(['Domain.Read.All'], 'MailboxSettings.Read')).toBe(false);
    expect(grantsOptional(['MailboxSettings.Read'], 'MailboxSettings.Read')).toBe(true);
    expect(grantsOptional(['MailboxSettings.ReadWrite'], 'MailboxSettings.Read')).toBe(true);
  });

  it('its hint says where to add it and gives the consent link', () => {
    const hint = optionalPermissionHint(
      'MailboxSettings.Read',
      'https://login.example/t/v2.0/adminconsent?client_id=c',
    );
    expect(hint).toContain('Application permissions → MailboxSettings.Read');
    expect(hint).toContain('grant admin consent');
    expect(hint).toContain('https://login.example/t/v2.0/adminconsent?client_id=c');
  });
});
