import type { Equal } from '../contract/common.js';
import type { ErrorBody, FieldError as ServedFieldError } from '../contract/errors.js';
import { AppError, type FieldError } from '../directory/errors.js';
import { GraphError } from '../graph/index.js';

/** The `error` of an API error response: a stable code and a sentence to act on. */
export type { ErrorBody };

// The directory's field error is what the API serves: proven the same.
const _fieldErrorIsServed: Equal<FieldError, ServedFieldError> = true;

/** What the API answers for an unexpected failure: its detail goes to the log, never to the caller. */
export const INTERNAL_ERROR: ErrorBody = {
  code: 'internal',
  message: 'Something went wrong on the server; it is logged.',
};

/**
 * The status and body the API answers for an application or Graph error, or null for any other
 * (the caller logs it and answers INTERNAL_ERROR). One mapping for the HTTP error handler and for
 * what a background job records for a later GET.
 */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } | null {
  if (error instanceof GraphError) {
    // Microsoft refused or failed: the organization's settings or Entra need attention, not our server.
    return {
      status: 502,
      body: { code: error.code, message: `${error.detail || error.message} ${error.hint}`.trim() },
    };
  }
  if (error instanceof AppError) {
    return {
      status: error.status,
      body: {
        code: error.code,
        message: error.message,
        ...(error.field === undefined ? {} : { field: error.field }),
        ...(error.fields ? { fields: error.fields } : {}),
      },
    };
  }
  return null;
}
