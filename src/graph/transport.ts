/**
 * HTTPS transport shared by the token client (MSAL) and Graph calls of one connection: one
 * keep-alive agent (optionally trusting an extra CA), a per-tenant concurrency limit, the retry
 * policy, a client-request-id per request, and request counters.
 */
import { randomUUID } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { GraphError } from './errors.js';
import {
  classifyTransportError,
  PATIENT,
  RETRYABLE_STATUSES,
  type RetryPolicy,
  retryDelay,
  unreachableDetail,
} from './retry.js';

/** A request as the transport sends it. */
export interface TransportRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** Token requests are counted apart from Graph requests, which the benchmarks compare to the protocol minimum. */
  purpose?: 'graph' | 'token';
  /**
   * Counts this request's attempts (retries included) besides the connection's stats, so one part
   * of a read can tell its own requests while other parts share the transport.
   */
  tally?: { requests: number };
}

/** A response after retries: the last status, lower-cased headers and the body as text. */
export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  clientRequestId: string;
}

/** Counters of one connection, cumulative; readers take differences. */
export interface TransportStats {
  /** HTTP requests sent, retries included. */
  requests: number;
  retries: number;
  /** 429 answers received. */
  throttled: number;
  /** Requests to the token endpoint (and OIDC metadata), retries included. */
  tokenRequests: number;
}

/** Options of the transport. */
export interface TransportOptions {
  caPem?: string | undefined;
  concurrency: number;
  retry: RetryPolicy;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  /** Per request: time to response headers and between body chunks (default PATIENT's). */
  timeoutMs?: number;
  /** TCP connect and TLS handshake of a new connection (default PATIENT's). */
  connectTimeoutMs?: number;
}

/** Counts permits so at most `limit` requests of one tenant are in flight. */
class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      // Hand the permit straight to the next waiter so `active` never dips and lets a third in.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** The HTTPS transport of one connection. */
export class Transport {
  readonly stats: TransportStats = { requests: 0, retries: 0, throttled: 0, tokenRequests: 0 };
  private readonly agent: Agent;
  private readonly limiter: Semaphore;
  private readonly timeoutMs: number;

  constructor(private readonly options: TransportOptions) {
    this.agent = new Agent({
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 120_000,
      connect: {
        timeout: options.connectTimeoutMs ?? PATIENT.connectTimeoutMs,
        // `ca` replaces the default trust store, so an extra CA is added to Node's roots, not instead.
        ...(options.caPem ? { ca: [...rootCertificates, options.caPem] } : {}),
      },
    });
    this.limiter = new Semaphore(Math.max(1, options.concurrency));
    this.timeoutMs = options.timeoutMs ?? PATIENT.requestTimeoutMs;
  }

  /**
   * Sends a request, retrying 429/503/504 and dropped connections per the policy. Returns the
   * last response whatever its status (callers translate errors); throws GraphError network/tls
   * when no response could be had.
   */
  async send(req: TransportRequest): Promise<TransportResponse> {
    // One id per logical request: its retries share it, so Microsoft support can correlate them.
    const clientRequestId = randomUUID();
    const started = Date.now();
    const host = hostOf(req.url);
    const headers = {
      ...req.headers,
      'client-request-id': clientRequestId,
      'return-client-request-id': 'true',
    };
    for (let retry = 0; ; retry++) {
      let response: TransportResponse;
      try {
        response = await this.limiter.run(() => this.attempt(req, headers, clientRequestId));
      } catch (error) {
        const failure = classifyTransportError(error);
        if (failure.kind === 'tls') {
          throw new GraphError('tls', `${failure.code}: ${failure.message}`, { cause: error });
        }
        const wait = failure.retryable
          ? retryDelay(retry, undefined, this.options.retry, this.options.random)
          : undefined;
        if (wait === undefined) {
          const detail = unreachableDetail(host, failure, Date.now() - started, retry);
          throw new GraphError('network', detail, { cause: error });
        }
        await this.pause(wait);
        continue;
      }
      if (response.status === 429) this.stats.throttled++;
      if (!RETRYABLE_STATUSES.has(response.status)) return response;
      const wait = retryDelay(
        retry,
        response.headers['retry-after'],
        this.options.retry,
        this.options.random,
      );
      if (wait === undefined) return response;
      await this.pause(wait);
    }
  }

  private async pause(ms: number): Promise<void> {
    this.stats.retries++;
    await this.options.sleep(ms);
  }

  private async attempt(
    req: TransportRequest,
    headers: Record<string, string>,
    clientRequestId: string,
  ): Promise<TransportResponse> {
    if (req.purpose === 'token') this.stats.tokenRequests++;
    else this.stats.requests++;
    if (req.tally) req.tally.requests++;
    const res = await request(req.url, {
      method: req.method,
      headers,
      body: req.body,
      dispatcher: this.agent,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
    // Reading the whole body inside the attempt makes a connection dropped mid-body retryable.
    const text = await res.body.text();
    const flat: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: res.statusCode, headers: flat, text, clientRequestId };
  }

  /**
   * Closes the connections, aborting requests still in flight: a connection test that gave up on
   * a silent host must not wait for that request's own timeouts.
   */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

/** The host (and port, when not the default) a URL names, for error messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch (error) {
    if (error instanceof TypeError) return url;
    throw error;
  }
}
