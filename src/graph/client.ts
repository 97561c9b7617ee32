/**
 * Authenticated Graph GETs: a token on every request, one renewal when Graph answers 401, error
 * responses translated to GraphError, bodies parsed as JSON. Paging lives in pager.ts.
 */
import { GraphError } from './errors.js';
import { graphErrorSchema } from './schemas.js';
import type { TokenSource } from './token.js';
import type { Transport, TransportResponse } from './transport.js';

/** Graph error codes meaning "the delta token is gone, start over" (graph-facts §3.3). */
const DELTA_RESET_CODES = new Set(['syncStateNotFound', 'resyncRequired', 'syncStateInvalid']);

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

/** Translates a non-2xx Graph response; `deniedHint` builds the hint for 403 (it needs the token's roles). */
export function translateGraphResponse(
  res: TransportResponse,
  what: string,
  deniedHint?: () => string,
): GraphError {
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
  if (res.status === 410 || codes.some((c) => DELTA_RESET_CODES.has(c))) {
    return new GraphError('delta_expired', detail, options);
  }
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

/** Authenticated GETs against one Graph root. */
export class GraphClient {
  constructor(
    private readonly transport: Transport,
    private readonly tokens: TokenSource,
    private readonly deniedHint: () => string,
  ) {}

  /** GETs an absolute Graph URL and returns its JSON body; `what` names the call in errors. */
  async get(url: string, what: string): Promise<GraphResponse> {
    let res = await this.send(url, await this.tokens.get());
    if (res.status === 401) {
      // The token may have expired between our check and Graph's; one fresh token, then give up.
      res = await this.send(url, await this.tokens.renew());
    }
    if (res.status < 200 || res.status >= 300) throw translateGraphResponse(res, what, this.deniedHint);
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

  private send(url: string, token: string): Promise<TransportResponse> {
    return this.transport.send({
      method: 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
  }
}
