/**
 * The catalog of typed errors. Each has a stable code, an HTTP status and (for bad input) the
 * field it concerns. The edges (CLI, HTTP) translate them once: exit code 2 / 4xx for input
 * errors, 1 / 5xx for the rest. Every code is documented in docs/errors.md (a test checks it).
 */

export const ERROR_CODES = {
  invalid_input: {
    status: 400,
    input: true,
    meaning: 'A field, flag or body is not valid; the message names it and says what is expected.',
  },
  not_found: {
    status: 404,
    input: true,
    meaning: 'The organization, user, group, preview or run named does not exist (or is not yours to see).',
  },
  conflict: {
    status: 409,
    input: true,
    meaning:
      'The request clashes with what exists: an address or domain already taken, a domain still in use, a sync already running.',
  },
  not_proven: {
    status: 422,
    input: true,
    meaning:
      "A pending domain's proof was not found: its TXT record is not published (or not seen yet) and the connected Entra tenant has not verified it; the message says what each answered.",
  },
  unauthenticated: {
    status: 401,
    input: true,
    meaning: 'Not signed in, the session expired, the password is wrong, or the API token is not valid.',
  },
  forbidden: {
    status: 403,
    input: true,
    meaning:
      'Signed in, but not allowed: another organization, a role without that right, a silent user signing in, a missing CSRF token.',
  },
  rate_limited: {
    status: 429,
    input: true,
    meaning:
      'Too many sign-in attempts from one client address, or failed ones for one account (the wait doubles), or the server is busy checking passwords: wait and try again.',
  },
  disk_full: {
    status: 507,
    input: false,
    meaning:
      "The database's disk is full: nothing was written. Free space where the database lives (DATA_DIR or the PostgreSQL server).",
  },
  internal: {
    status: 500,
    input: false,
    meaning:
      'Something failed on the server (database unreachable, a bug); the message or the log says what.',
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * One field's refusal, when a form's fields are checked together. `untested` marks the refusal
 * that saving untested would pass (a new key Entra refused, or Entra could not be reached).
 */
export interface FieldError {
  field: string;
  message: string;
  untested?: true;
}

/** An error the caller can act on: says what is wrong and how to fix it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  /** The input field (flag, body property) the error concerns, when there is one. */
  readonly field: string | undefined;
  /**
   * Every field's refusal when several fields were checked at once; the first is also `field`
   * and the message.
   */
  readonly fields: FieldError[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    field?: string,
    options?: ErrorOptions & { fields?: FieldError[] },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.field = field;
    this.fields = options?.fields;
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
/**
 * The refusal of a form whose fields were all checked: the first error is its field and message,
 * the rest follow in `fields` (each on its own line in the CLI, each under its field in the console).
 */
export const invalidFields = (errors: FieldError[]) => {
  const [first] = errors;
  if (!first) throw new Error('invalidFields needs at least one error');
  return new AppError('invalid_input', first.message, first.field, { fields: errors });
};
export const notFound = (message: string) => new AppError('not_found', message);
export const conflict = (field: string | undefined, message: string) =>
  new AppError('conflict', message, field);
