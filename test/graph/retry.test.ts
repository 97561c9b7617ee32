import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyTransportError,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  retryDelay,
} from '../../src/graph/retry.js';

const policy = DEFAULT_RETRY_POLICY;

describe('Retry-After', () => {
  it('reads integer and decimal seconds and HTTP dates', () => {
    expect(parseRetryAfter('10')).toBe(10_000);
    expect(parseRetryAfter('2.128')).toBe(2128);
    expect(parseRetryAfter('0')).toBe(0);
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-3')).toBeUndefined();
  });
});

describe('retry delays', () => {
  it('backs off exponentially with jitter, within [step/2, step], capped', () => {
    expect(backoffDelay(0, policy, () => 0)).toBe(250);
    expect(backoffDelay(0, policy, () => 1)).toBe(500);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(3000);
    expect(backoffDelay(20, policy, () => 1)).toBe(policy.maxBackoffMs);
  });

  it('honours Retry-After over backoff, and stops after maxRetries', () => {
    expect(retryDelay(0, '7', policy)).toBe(7000);
    expect(retryDelay(2, undefined, policy, () => 0)).toBe(1000);
    expect(retryDelay(policy.maxRetries, '1', policy)).toBeUndefined();
  });

  it('gives up rather than wait longer than maxRetryAfterMs', () => {
    expect(retryDelay(0, '3600', policy)).toBeUndefined();
  });
});

describe('classifyTransportError', () => {
  const err = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });

  it('retries dropped connections', () => {
    expect(classifyTransportError(err('ECONNRESET'))).toMatchObject({ kind: 'network', retryable: true });
    expect(classifyTransportError(err('UND_ERR_SOCKET'))).toMatchObject({ kind: 'network', retryable: true });
  });

  it('does not retry unknown hosts', () => {
    expect(classifyTransportError(err('ENOTFOUND'))).toMatchObject({ kind: 'network', retryable: false });
  });

  it('finds certificate errors, also wrapped in a cause', () => {
    expect(classifyTransportError(err('SELF_SIGNED_CERT_IN_CHAIN'))).toMatchObject({
      kind: 'tls',
      retryable: false,
    });
    expect(
      classifyTransportError(new TypeError('fetch failed', { cause: err('ERR_TLS_CERT_ALTNAME_INVALID') })),
    ).toMatchObject({ kind: 'tls', code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  });
});
