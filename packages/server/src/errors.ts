/**
 * The one table of error codes (DESIGN §5): every rejected request answers with its HTTP status and
 * `{ "error": { "code", "message" } }`. docs/errors.md documents each code; a test keeps the two in step.
 * To add a code: add a row here and a section in docs/errors.md.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, summary: 'The request is malformed (wrong parameters or body).' },
  unauthorized: { status: 401, summary: 'A token is required (`Authorization: Bearer <token>`) or the one given is wrong.' },
  anonymous_write: {
    status: 403,
    summary: 'The route changes the server\'s state and the server has no token: it must be started with `--token` or `--allow-anonymous-writes`.',
  },
  too_many_flows: { status: 409, summary: 'The request would put more flow contracts in force than the limit (default 1 000); delete some first.' },
  too_many_agents: { status: 409, summary: 'A federated gateway\'s agent directory is full (default 20 000 agents); the heartbeat of a new agent was not taken.' },
  not_found: { status: 404, summary: 'No such route or resource.' },
  invalid_trace_id: { status: 400, summary: 'The trace id is not 16 or 32 hex characters.' },
  unsupported_media_type: { status: 415, summary: 'The Content-Type is not one this route accepts.' },
  payload_too_large: { status: 413, summary: 'The body is larger than the configured limit.' },
  internal_error: { status: 500, summary: 'An unexpected error; the server logs the details.' },
  invalid_json: { status: 400, summary: 'The body is not valid JSON.' },
  invalid_payload: { status: 400, summary: 'The body is not a payload of the format this route and Content-Type expect.' },
  invalid_spans: { status: 400, summary: 'Every span in the request was rejected (bad ids, missing fields, wrong types).' },
  unsupported_encoding: { status: 415, summary: 'The Content-Encoding is not `gzip` or `identity`.' },
  invalid_encoding: { status: 400, summary: 'The body is not valid gzip data.' },
  too_many_spans: { status: 413, summary: 'The request holds more spans than the configured limit.' },
  too_many_attributes: { status: 400, summary: 'A span (or one of its events, links or its resource) has more attributes than the configured limit.' },
  attribute_too_large: { status: 400, summary: 'An attribute value is longer than the configured limit.' },
  decompress_busy: {
    status: 429,
    summary: 'Too many compressed bodies are being decompressed at once (the shared budget is spent); the body was not accepted. Retry after `Retry-After` seconds.',
  },
  overloaded: { status: 429, summary: 'The store is behind; the request was not accepted. Retry after `Retry-After` seconds.' },
  unavailable: { status: 503, summary: 'The server is shutting down or cannot write its write-ahead log. Retry after `Retry-After` seconds.' },
  broker_unavailable: {
    status: 503,
    summary: 'A collector cannot publish to NATS JetStream (not reached yet, connection lost, or no acknowledgement in time); nothing of the request is acknowledged. Retry after `Retry-After` seconds.',
  },
  stream_full: {
    status: 429,
    summary: 'The NATS JetStream stream a collector publishes to is at its limits (the ingesters are behind); the request was not accepted. Retry after `Retry-After` seconds.',
  },
  insufficient_storage: {
    status: 507,
    summary: 'The server has no room to write its write-ahead log (disk full, quota); it answers queries but takes no spans until space is free.',
  },
  headers_too_large: { status: 431, summary: 'The request line and headers are larger than the server takes.' },
  request_timeout: { status: 408, summary: 'The request (headers or body) did not arrive within the timeout.' },
  expectation_failed: { status: 417, summary: 'The `Expect` header asks for something other than `100-continue`.' },
  remedies_off: { status: 403, summary: 'Remedies are off on this server: it was started without `--remedy-token` and `--remedy-secret`.' },
  remedy_forbidden: { status: 403, summary: 'A remedy request without the remedy token, or a remedy result not signed with the remedy secret; refused and audited.' },
  remedy_not_applicable: { status: 409, summary: 'The finding has no remedy of that kind (its rule is not repaired by replay or undo, or its span is no longer stored).' },
  remedy_conflict: { status: 409, summary: 'A remedy result that does not fit the remedy\'s state (not delivered, or delivered to another instance).' },
  remedy_rate_limited: { status: 429, summary: 'The service was asked for as many remedies in the last minute as the limit allows. Retry after `Retry-After` seconds.' },
  remedy_queue_full: { status: 429, summary: 'As many remedies are open as the server keeps (`maxOpen`); wait for some to finish or expire.' },
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
