import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyTransportError,
  DEFAULT_RETRY_POLICY,
  INTERACTIVE,
  PATIENT,
  parseRetryAfter,
  retryDelay,
  unreachableDetail,
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

  it('does not retry unknown hosts, nor requests aborted by our own close()', () => {
    expect(classifyTransportError(err('ENOTFOUND'))).toMatchObject({ kind: 'network', retryable: false });
    expect(classifyTransportError(err('UND_ERR_DESTROYED'))).toMatchObject({
      kind: 'network',
      retryable: false,
    });
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

describe('patience', () => {
  it('keeps the scheduled syncs patient and a connection test short', () => {
    expect(PATIENT.retry).toBe(DEFAULT_RETRY_POLICY);
    expect(PATIENT.requestTimeoutMs).toBe(120_000);
    // Every attempt an interactive request may make, with the waits between them, fits the test's deadline.
    const { retry, connectTimeoutMs, requestTimeoutMs, testDeadlineMs } = INTERACTIVE;
    const attempts = retry.maxRetries + 1;
    const worst =
      attempts * Math.max(connectTimeoutMs, requestTimeoutMs) + retry.maxRetries * retry.maxBackoffMs;
    expect(worst).toBeLessThan(testDeadlineMs);
    expect(testDeadlineMs).toBeLessThan(20_000);
  });
});

describe('unreachableDetail', () => {
  const failure = (code: string) => ({
    kind: 'network' as const,
    retryable: true,
    code,
    message: `${code} text`,
  });

  it('names the host and what it did', () => {
    expect(unreachableDetail('login.microsoftonline.com', failure('UND_ERR_CONNECT_TIMEOUT'), 8_600, 1)).toBe(
      'login.microsoftonline.com could not be reached within 9 s (UND_ERR_CONNECT_TIMEOUT: UND_ERR_CONNECT_TIMEOUT text; 1 retry)',
    );
    expect(unreachableDetail('graph.microsoft.com', failure('UND_ERR_HEADERS_TIMEOUT'), 16_000, 1)).toMatch(
      /^graph\.microsoft\.com accepted the connection but did not answer within 16 s/,
    );
    expect(unreachableDetail('127.0.0.1:9', failure('ECONNREFUSED'), 20, 2)).toMatch(
      /^127\.0\.0\.1:9 refused the connection \(ECONNREFUSED: .*; 2 retries\)$/,
    );
    expect(unreachableDetail('login.example', failure('ENOTFOUND'), 5, 0)).toMatch(
      /^login\.example could not be found \(DNS\)/,
    );
    expect(unreachableDetail('h', failure('ECONNRESET'), 5, 8)).toMatch(/^h dropped the connection/);
  });
});
