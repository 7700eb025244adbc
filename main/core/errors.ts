/**
 * The coded error catalogue. Domain code throws `ProblemError`; the API turns it into an
 * `application/problem+json` response. `type` URIs and `code`s are stable API.
 */
export const PROBLEMS = {
  validation: { status: 400, title: 'Invalid request' },
  malformed_json: { status: 400, title: 'Malformed JSON body' },
  invalid_cursor: { status: 400, title: 'Invalid pagination cursor' },
  unauthorized: { status: 401, title: 'Missing or invalid API key' },
  forbidden: { status: 403, title: 'API key lacks the required scope' },
  not_found: { status: 404, title: 'Resource not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  conflict: { status: 409, title: 'Conflict with the current state' },
  idempotency_mismatch: { status: 422, title: 'Idempotency-Key reused with a different request' },
  idempotency_in_progress: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  payload_too_large: { status: 413, title: 'Request body too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  rate_limited: { status: 429, title: 'Too many requests' },
  internal: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Shutting down' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export function problemType(code: ProblemCode): string {
  return `urn:cortex:problem:${code.replace(/_/g, '-')}`;
}

export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly code: ProblemCode,
    detail?: string,
    readonly field?: string,
  ) {
    super(detail ?? PROBLEMS[code].title);
    this.name = 'ProblemError';
    this.status = PROBLEMS[code].status;
  }
}

export const notFound = (kind: string, field?: string) => new ProblemError('not_found', `${kind} not found`, field);
export const invalid = (field: string, detail: string) => new ProblemError('validation', detail, field);
export const conflict = (detail: string, field?: string) => new ProblemError('conflict', detail, field);
