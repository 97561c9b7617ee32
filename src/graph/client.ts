/**
 * Authenticated Graph GETs: a token on every request, one renewal when Graph answers 401, error
 * responses translated to GraphError, bodies parsed as JSON. Paging lives in pager.ts.
 */
import { GraphError } from './errors.js';
import { graphErrorSchema } from './schemas.js';
import type { TokenSource } from './token.js';
import type { Transport, TransportResponse } from './transport.js';

/**
 * Graph error codes meaning "the delta sync state is gone, start over" (docs/graph-facts.md §3.3),
 * lower-cased: Microsoft spells them in more than one case (`SyncStateNotFound` has been seen).
 */
const SYNC_STATE_CODES = new Set(['syncstatenotfound', 'resyncrequired', 'syncstateinvalid']);
/** A nextLink's skip token aged before it was followed (docs/graph-facts.md Addendum). */
const EXPIRED_PAGE_TOKEN = 'directory_expiredpagetoken';
/** Statuses an expired delta token is answered with: "a 40X-series error" (docs/graph-facts.md §9.2). */
const SYNC_STATE_STATUSES = new Set([400, 404, 410]);

/** Every `code` in Graph's error envelope, outermost first (inner errors nest). */
function errorCodes(body: unknown): string[] {
  const codes: string[] = [];
  let node: unknown = (body as { error?: unknown } | undefined)?.error;
  while (node && typeof node === 'object' && codes.length < 10) {
    const code = (node as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    node = (node as { innerError?: unknown }).innerError ?? (node as { innererror?: unknown }).innererror;
  }
  return codes;
}

/** What a request's URL says: a delta round's page, and whether it resumes from a stored delta token. */
function deltaRequest(url: string): { delta: boolean; deltaToken: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    if (error instanceof TypeError) return { delta: false, deltaToken: false };
    throw error;
  }
  // searchParams decodes names, so `%24deltatoken` counts too.
  const deltaToken = parsed.searchParams.has('$deltatoken');
  const delta = deltaToken || /\/(microsoft\.graph\.)?delta(\(\))?$/i.test(parsed.pathname);
  return { delta, deltaToken };
}

/**
 * Whether an error answer means that a delta round's state expired, by status, Graph's codes
 * (any case) and the request: `delta_expired` when the stored delta link is no longer usable (the
 * connector then reads that collection fully), `page_expired` when a nextLink's page token aged
 * (the connector starts that round over). Other answers, 400s included, are not expiry.
 */
function expiryOf(
  status: number,
  codes: readonly string[],
  url: string,
): 'delta_expired' | 'page_expired' | undefined {
  const lower = codes.map((c) => c.toLowerCase());
  const { delta, deltaToken } = deltaRequest(url);
  // 410 Gone on a delta request is the documented "synchronization reset".
  if (delta && status === 410) return 'delta_expired';
  if (delta && SYNC_STATE_STATUSES.has(status) && lower.some((c) => SYNC_STATE_CODES.has(c))) {
    return 'delta_expired';
  }
  if (status === 400 && lower.includes(EXPIRED_PAGE_TOKEN)) {
    // When the token that aged is a stored delta token, starting its round over would fail the
    // same way at every sync: that link is dropped like an expired one.
    return deltaToken ? 'delta_expired' : 'page_expired';
  }
  return undefined;
}

/** The request a response answered: its URL, and `what` names the call in errors. */
export interface GraphRequest {
  url: string;
  what: string;
}

/** Translates a non-2xx Graph response; `deniedHint` builds the hint for 403 (it needs the token's roles). */
export function translateGraphResponse(
  res: TransportResponse,
  request: GraphRequest,
  deniedHint?: () => string,
): GraphError {
  const { what } = request;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    body = undefined;
  }
  const parsed = graphErrorSchema.safeParse(body);
  const requestId = res.headers['request-id'];
  const options = { status: res.status, requestId };
  const detail = parsed.success
    ? `[${parsed.data.error.code}] ${parsed.data.error.message ?? ''}`.trim()
    : `HTTP ${res.status} from ${what} (${res.text.slice(0, 200).replace(/\s+/g, ' ') || 'empty body'})`;
  const codes = errorCodes(body);
  const expiry = expiryOf(res.status, codes, request.url);
  if (expiry) return new GraphError(expiry, detail, options);
  if (res.status === 403 || codes.includes('Authorization_RequestDenied')) {
    return new GraphError('permission_denied', detail, { ...options, hint: deniedHint?.() });
  }
  if (res.status === 401) return new GraphError('token_rejected', detail, options);
  if (res.status === 429) return new GraphError('throttled', detail, options);
  if (res.status === 503 || res.status === 504) return new GraphError('service_unavailable', detail, options);
  return new GraphError('graph_error', `${detail} (HTTP ${res.status} from ${what})`, options);
}

/** A JSON body and the response it came in. */
export interface GraphResponse {
  body: unknown;
  requestId: string | undefined;
}

/** A JSON body to POST, and what counts its attempts (see TransportRequest.tally). */
export interface GraphPost {
  body: unknown;
  tally?: { requests: number };
}

/** Authenticated GETs (and JSON POSTs such as $batch) against one Graph root. */
export class GraphClient {
  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenSource,
    private readonly deniedHint: () => string,
  ) {}

  /** GETs an absolute Graph URL and returns its JSON body; `what` names the call in errors. */
  get(url: string, what: string): Promise<GraphResponse> {
    return this.call(url, what, undefined);
  }

  /** POSTs a JSON body to an absolute Graph URL and returns the JSON answer, as get() does. */
  post(url: string, what: string, post: GraphPost): Promise<GraphResponse> {
    return this.call(url, what, post);
  }

  private async call(url: string, what: string, post: GraphPost | undefined): Promise<GraphResponse> {
    const body = post === undefined ? undefined : JSON.stringify(post.body);
    let res = await this.send(url, await this.tokens.get(), body, post?.tally);
    if (res.status === 401) {
      // The token may have expired between our check and Graph's; one fresh token, then give up.
      res = await this.send(url, await this.tokens.renew(), body, post?.tally);
    }
    if (res.status < 200 || res.status >= 300) {
      throw translateGraphResponse(res, { url, what }, this.deniedHint);
    }
    const requestId = res.headers['request-id'];
    try {
      return { body: JSON.parse(res.text), requestId };
    } catch (error) {
      throw new GraphError(
        'malformed_payload',
        `${what}: response body is not JSON (request-id ${requestId})`,
        {
          status: res.status,
          requestId,
          cause: error,
        },
      );
    }
  }

  private send(
    url: string,
    token: string,
    body: string | undefined,
    tally: { requests: number } | undefined,
  ): Promise<TransportResponse> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
    };
    if (body === undefined) return this.transport.send({ method: 'GET', url, headers });
    return this.transport.send({
      method: 'POST',
      url,
      headers: { ...headers, 'content-type': 'application/json' },
      body,
      ...(tally ? { tally } : {}),
    });
  }
}
