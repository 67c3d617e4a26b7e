/**
 * The one table of error codes (DESIGN §5): every rejected request answers with its HTTP status and
 * `{ "error": { "code", "message" } }`. docs/errors.md documents each code; a test keeps the two in step.
 * To add a code: add a row here and a section in docs/errors.md.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, summary: 'The request is malformed (wrong parameters or body).' },
  unauthorized: { status: 401, summary: 'A token is required (`Authorization: Bearer <token>`) or the one given is wrong.' },
  not_found: { status: 404, summary: 'No such route or resource.' },
  invalid_trace_id: { status: 400, summary: 'The trace id is not 16 or 32 hex characters.' },
  unsupported_media_type: { status: 415, summary: 'The Content-Type is not one this route accepts.' },
  payload_too_large: { status: 413, summary: 'The body is larger than the configured limit.' },
  internal_error: { status: 500, summary: 'An unexpected error; the server logs the details.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

/** An error that becomes the JSON error answer of its code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra headers for the answer, e.g. Retry-After. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
