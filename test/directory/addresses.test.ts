import { describe, expect, it } from 'vitest';
import {
  isMicrosoftInitialDomain,
  normalizeAddress,
  normalizeDomain,
  parseAddress,
  parseAliases,
} from '../../src/directory/addresses.js';
import { AppError } from '../../src/directory/errors.js';

const orgDomains = (...domains: string[]) => ({ domains, pendingDomains: ['pending.example'] });

describe('normalizeDomain', () => {
  it.each([
    ['Contoso.COM', 'contoso.com'],
    [' mail.example.co.uk. ', 'mail.example.co.uk'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.example', 'a-b.example'],
  ])('accepts %s as %s', (input, expected) => {
    expect(normalizeDomain(input)).toBe(expected);
  });

  it.each([
    ['localhost'],
    [''],
    ['-bad.com'],
    ['bad-.com'],
    ['exa mple.com'],
    ['example..com'],
    ['example.123'],
    [`${'a'.repeat(64)}.com`],
    ['under_score.com'],
  ])('rejects %j', (input) => {
    expect(normalizeDomain(input)).toBeNull();
  });
});

describe('normalizeAddress', () => {
  it('lower-cases and trims', () => {
    expect(normalizeAddress('  Ann.Lee@Contoso.COM ')).toBe('ann.lee@contoso.com');
  });
  it.each([
    ['plain'],
    ['@contoso.com'],
    ['ann@'],
    ['ann@@contoso.com'],
    ['a b@contoso.com'],
    ['.ann@contoso.com'],
  ])('rejects %j', (input) => {
    expect(normalizeAddress(input)).toBeNull();
  });
});

describe('parseAddress', () => {
  it('accepts an address in one of the domains', () => {
    expect(parseAddress('Bob@Fabrikam.com', orgDomains('contoso.com', 'fabrikam.com'))).toBe(
      'bob@fabrikam.com',
    );
  });
  it('refuses an address outside the domains, naming the allowed ones and the field', () => {
    const error = (() => {
      try {
        parseAddress('bob@other.com', orgDomains('contoso.com'), 'aliases');
      } catch (e) {
        return e as AppError;
      }
    })();
    expect(error).toBeInstanceOf(AppError);
    expect(error?.code).toBe('invalid_input');
    expect(error?.field).toBe('aliases');
    expect(error?.message).toContain('contoso.com');
  });
  it('refuses an address in a pending domain, saying it awaits its proof', () => {
    expect(() => parseAddress('ana@pending.example', orgDomains('contoso.com'))).toThrow(
      /ana@pending\.example is in pending\.example, which is pending: .*proven/,
    );
  });
});

describe('parseAliases', () => {
  it('deduplicates and sorts', () => {
    expect(parseAliases(['B@c.com', 'a@c.com', 'b@c.com'], 'p@c.com', orgDomains('c.com'))).toEqual([
      'a@c.com',
      'b@c.com',
    ]);
  });
  it('refuses an alias equal to the primary address', () => {
    expect(() => parseAliases(['P@c.com'], 'p@c.com', orgDomains('c.com'))).toThrow(/primary address/);
  });
});

describe('isMicrosoftInitialDomain', () => {
  it.each([
    'contoso.onmicrosoft.com',
    'contoso.mail.onmicrosoft.com',
    'contoso.onmicrosoft.us',
    'contoso.mail.onmicrosoft.us',
    'contoso.partner.onmschina.cn',
    'contoso.mail.partner.onmschina.cn',
  ])('knows %s as Microsoft initial or routing domain', (domain) => {
    expect(isMicrosoftInitialDomain(domain)).toBe(true);
  });

  it.each(['contoso.com', 'onmicrosoft.com.evil.example', 'contoso-onmicrosoft.com', 'contoso.onmschina.cn'])(
    'does not take %s for one',
    (domain) => {
      expect(isMicrosoftInitialDomain(domain)).toBe(false);
    },
  );
});
