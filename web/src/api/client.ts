/** The console's only way to the server: JSON over fetch, with the session's CSRF token. */
import type { ErrorBody, FieldError } from '../../../src/contract/errors.js';

/** An error answer of the API: `{error: {code, message, field?}}` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    /** Every field's refusal when the server checked a form whole (the first is `field`). */
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
}

/** One field's refusal; `untested` when saving untested would pass it (a new key Entra refused). */
export type { FieldError };

let csrfToken: string | null = null;
let onSessionLost: ((message: string) => void) | null = null;

/** The CSRF token of the current session (sent on every non-GET request). */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a signed-in request answers 401: the session expired or was revoked. */
export function setSessionLostHandler(handler: ((message: string) => void) | null): void {
  onSessionLost = handler;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Calls `/api/v1{path}`; resolves with the JSON body or rejects with an ApiError. */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached: check your connection and try again.');
  }
  const text = await response.text();
  const json = text ? safeJson(text) : null;
  if (response.ok) return json as T;
  const error = (
    json as {
      error?: Partial<ErrorBody>;
    } | null
  )?.error;
  const failure = new ApiError(
    response.status,
    error?.code ?? 'http_error',
    error?.message ?? `The server answered ${response.status} ${response.statusText}.`,
    error?.field,
    Array.isArray(error?.fields) ? error.fields : undefined,
  );
  // A 401 on anything but sign-in means the session is gone; the shell sends the person back
  // to the sign-in page with the server's sentence instead of leaving a half-broken page.
  if (response.status === 401 && csrfToken && !path.startsWith('/auth/')) onSessionLost?.(failure.message);
  throw failure;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Builds a query string from the defined values only. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
