/**
 * The catalog of typed errors. Each has a stable code, an HTTP status and (for bad input) the
 * field it concerns. The edges (CLI, HTTP) translate them once: exit code 2 / 4xx for input
 * errors, 1 / 5xx for the rest. Every code is documented in docs/errors.md (a test checks it).
 */

export const ERROR_CODES = {
  invalid_input: { status: 400, input: true },
  not_found: { status: 404, input: true },
  conflict: { status: 409, input: true },
  unauthenticated: { status: 401, input: true },
  forbidden: { status: 403, input: true },
  rate_limited: { status: 429, input: true },
  internal: { status: 500, input: false },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error the caller can act on: says what is wrong and how to fix it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** The input field (flag, body property) the error concerns, when there is one. */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.field = field;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  /** True when the caller's input (not the system) is at fault: CLI exit 2, HTTP 4xx. */
  get isInputError(): boolean {
    return ERROR_CODES[this.code].input;
  }
}

export const invalid = (field: string, message: string) => new AppError('invalid_input', message, field);
export const notFound = (message: string) => new AppError('not_found', message);
export const conflict = (field: string | undefined, message: string) =>
  new AppError('conflict', message, field);
