/**
 * Retry policy for Graph and the token endpoint (docs/graph-facts.md §5.1): 429, 503 and 504 and dropped
 * connections are retried, honouring Retry-After (seconds, decimal seconds or an HTTP date), else
 * exponential backoff with jitter; the number of retries and the longest wait are bounded.
 */

/** Statuses Microsoft documents as "retry after a delay". */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

/** Tunables of the retry policy; the defaults suit a scheduled sync. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** First backoff step when the server gave no Retry-After. */
  baseDelayMs: number;
  /** Longest backoff step we choose ourselves. */
  maxBackoffMs: number;
  /** A Retry-After longer than this is not waited for: the read fails as throttled instead. */
  maxRetryAfterMs: number;
}

/** Defaults: 8 retries make a 10 % fault rate fail a request with odds of 1e-9. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 8,
  baseDelayMs: 500,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 300_000,
};

/**
 * How long a connection waits for Microsoft: retries and timeouts as one named choice of the
 * caller, so a person waiting for a connection test is not held up by a scheduled sync's patience.
 */
export interface Patience {
  retry: RetryPolicy;
  /** TCP connect and TLS handshake of a new connection. */
  connectTimeoutMs: number;
  /** Per request: time to the response headers, and between body chunks. */
  requestTimeoutMs: number;
  /** Longest a connection test (diagnose) takes in all; steps it could not finish say so. */
  testDeadlineMs: number;
}

/** Scheduled and manual syncs: ride out throttling and outages of minutes. */
export const PATIENT: Patience = {
  retry: DEFAULT_RETRY_POLICY,
  connectTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  testDeadlineMs: 120_000,
};

/**
 * A person waiting (the connection test): one retry and short timeouts, so an unreachable or
 * silent host is reported within seconds — two attempts stay under the test's deadline.
 */
export const INTERACTIVE: Patience = {
  retry: { maxRetries: 1, baseDelayMs: 250, maxBackoffMs: 1_000, maxRetryAfterMs: 3_000 },
  connectTimeoutMs: 4_000,
  requestTimeoutMs: 8_000,
  testDeadlineMs: 18_000,
};

/** Parses a Retry-After header into milliseconds (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000);
  // An HTTP date names its month; without this check Date.parse would read '-3' as a year.
  if (!/[a-z]{3}/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries of
 * many requests failing together spread out without ever retrying immediately.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxBackoffMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * How long to wait before retry number `retry` (0-based), or undefined when no retry should be
 * made (retries used up, or the server asks for a longer wait than we accept).
 */
export function retryDelay(
  retry: number,
  retryAfter: string | undefined,
  policy: RetryPolicy,
  random: () => number = Math.random,
  now: number = Date.now(),
): number | undefined {
  if (retry >= policy.maxRetries) return undefined;
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) return asked > policy.maxRetryAfterMs ? undefined : asked;
  return backoffDelay(retry, policy, random);
}

/** Node/OpenSSL error codes that mean the peer's certificate could not be verified. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

/** Errors that will not go away by retrying: a name that does not resolve, a bad URL, our own close(). */
const PERMANENT_NETWORK_CODES = new Set([
  'ENOTFOUND',
  'ERR_INVALID_URL',
  'UND_ERR_INVALID_ARG',
  'UND_ERR_DESTROYED',
  'UND_ERR_CLOSED',
]);

/** How a failed request (no HTTP response) should be treated. */
export type TransportFailure = { kind: 'tls' | 'network'; retryable: boolean; code: string; message: string };

/** Classifies an exception thrown while sending a request or reading its response. */
export function classifyTransportError(error: unknown): TransportFailure {
  // undici and fetch wrap the socket error in `cause`; walk the chain for the most specific code.
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  const codes = chain.map((e) => String((e as { code?: unknown }).code ?? '')).filter((c) => c !== '');
  const message = chain.map((e) => (e instanceof Error ? e.message : String(e))).join(': ');
  const tls = codes.find((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL_') || c.startsWith('ERR_TLS_'));
  if (tls) return { kind: 'tls', retryable: false, code: tls, message };
  const code = codes[0] ?? 'UNKNOWN';
  return { kind: 'network', retryable: !codes.some((c) => PERMANENT_NETWORK_CODES.has(c)), code, message };
}

/** Milliseconds as whole seconds for a sentence, never "0 s". */
export const wholeSeconds = (ms: number): number => Math.max(1, Math.round(ms / 1000));

/** What the host did, in words, from the failure's code. */
function whatHappened(host: string, code: string, seconds: number): string {
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT')
    return `${host} accepted the connection but did not answer within ${seconds} s`;
  if (code === 'ECONNREFUSED') return `${host} refused the connection`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${host} could not be found (DNS)`;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET')
    return `${host} dropped the connection`;
  return `${host} could not be reached within ${seconds} s`;
}

/**
 * The detail of a request that got no response: which host, what it did and how long we tried —
 * e.g. 'login.microsoftonline.com could not be reached within 9 s (UND_ERR_CONNECT_TIMEOUT: …; 1 retry)'.
 */
export function unreachableDetail(
  host: string,
  failure: TransportFailure,
  elapsedMs: number,
  retries: number,
): string {
  const seconds = wholeSeconds(elapsedMs);
  const tries = `${retries} ${retries === 1 ? 'retry' : 'retries'}`;
  return `${whatHappened(host, failure.code, seconds)} (${failure.code}: ${failure.message}; ${tries})`;
}
