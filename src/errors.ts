/**
 * The error catalogue. Every refusal the service makes is one of these entries: a stable code that
 * clients can branch on, the HTTP status, and a default message written for the person reading it.
 */
export const ERROR_CATALOGUE = {
  BAD_REQUEST: { status: 400, message: 'The request could not be read.' },
  NOT_MULTIPART: { status: 400, message: 'Send the file as multipart/form-data with one file part named "file".' },
  MALFORMED_MULTIPART: { status: 400, message: 'The multipart body could not be parsed.' },
  MISSING_FILE: { status: 400, message: 'No file part named "file" was found in the form.' },
  UNEXPECTED_FILE_FIELD: { status: 400, message: 'Files are accepted only in the part named "file".' },
  TOO_MANY_FILES: { status: 400, message: 'Send exactly one file per request.' },
  TOO_MANY_FIELDS: { status: 400, message: 'The form has too many parts or fields.' },
  FIELD_TOO_LARGE: { status: 400, message: 'A form field name or value is too long.' },
  EMPTY_FILE: { status: 400, message: 'The file is empty.' },
  INVALID_IDEMPOTENCY_KEY: {
    status: 400,
    message: 'Idempotency-Key must be 1-255 characters of letters, digits, "_", ":", "." or "-".',
  },
  UNAUTHORIZED: { status: 401, message: 'A valid upload token is required (Authorization: Bearer <token>).' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'Uploads from this origin are not allowed.' },
  NOT_FOUND: { status: 404, message: 'There is nothing at this path.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this path.' },
  CLIENT_TIMEOUT: { status: 408, message: 'The upload stalled and was cut off.' },
  CLIENT_TOO_SLOW: {
    status: 408,
    message: 'The upload arrived too slowly and was cut off; try again on a faster connection.',
  },
  IDEMPOTENCY_CONFLICT: {
    status: 409,
    message: 'An upload with this Idempotency-Key is still in progress; retry once it has finished.',
  },
  FILE_TOO_LARGE: { status: 413, message: 'The file is larger than allowed for its type.' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'Only PNG, JPEG, MP4, WebM and MP3 files are accepted.',
  },
  CONTENT_MISMATCH: { status: 415, message: "The file's content does not match its declared type." },
  IDEMPOTENCY_KEY_REUSED: {
    status: 422,
    message: 'This Idempotency-Key was already used for a different file; use a new key for a new upload.',
  },
  UPSTREAM_REJECTED_FILE: {
    status: 422,
    message: 'The media service refused this file (it may be damaged or a variant it does not take); do not resend it unchanged.',
  },
  RATE_LIMITED: { status: 429, message: 'Too many uploads; wait before trying again.' },
  TOO_MANY_UPLOADS_IN_PROGRESS: {
    status: 429,
    message: 'You have too many uploads in progress; wait for one to finish before starting another.',
  },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side.' },
  UPSTREAM_ERROR: { status: 502, message: 'The media service could not take the upload. Try again later.' },
  UPSTREAM_BUSY: {
    status: 503,
    message: 'The media service is busy; try again after the time given in Retry-After.',
  },
  SERVER_BUSY: { status: 503, message: 'Too many uploads are in progress; try again shortly.' },
  SHUTTING_DOWN: { status: 503, message: 'This server is restarting; try again shortly.' },
  RATE_LIMIT_UNAVAILABLE: {
    status: 503,
    message: 'Uploads are paused while the rate limiter is unreachable; try again shortly.',
  },
  IDEMPOTENCY_UNAVAILABLE: {
    status: 503,
    message: 'Uploads with an Idempotency-Key are paused while their store is unreachable; try again shortly.',
  },
  NOT_READY: { status: 503, message: 'This server is not ready to take uploads.' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The media service did not answer in time. Try again later.' },
  // Resumable uploads (tus, /v1/uploads).
  UPLOAD_LENGTH_REQUIRED: {
    status: 400,
    message: 'Declare the file size when creating the upload (Upload-Length); deferred lengths are not accepted.',
  },
  INVALID_TUS_REQUEST: { status: 400, message: 'The request is not a valid tus 1.0.0 request.' },
  UPLOAD_NOT_FOUND: { status: 404, message: 'There is no upload at this URL; start a new one.' },
  OFFSET_MISMATCH: { status: 409, message: "Upload-Offset does not match the upload's offset; ask for it with HEAD and resume from there." },
  UPLOAD_EXPIRED: { status: 410, message: 'This upload expired before it was finished; start a new one.' },
  TUS_RESUMABLE_REQUIRED: { status: 412, message: 'Send Tus-Resumable: 1.0.0 with every request to this endpoint.' },
  TOO_MANY_UNFINISHED_UPLOADS: {
    status: 429,
    message: 'You hold as many unfinished resumable uploads as one client may; finish or delete one before starting another.',
  },
  UPLOAD_LOCKED: { status: 423, message: 'Another request is writing to this upload; retry shortly.' },
  RESUMABLE_UNAVAILABLE: {
    status: 503,
    message: 'Resumable uploads are paused while their shared state is unreachable; try again shortly.',
  },
  STORAGE_FULL: { status: 507, message: 'The server has no room for this upload right now; try again later.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error that maps to one catalogue entry; `message` may be made more specific than the default. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers such as Retry-After. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options?.cause });
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.headers = options?.headers ?? {};
  }
}

export function isApiError(value: unknown): value is ApiError {
  return value instanceof ApiError;
}

/**
 * The client went away before its request could be answered. Intakes raise it in place of their
 * parser's own words for an aborted body, so the edge need not know any parser's error text.
 */
export class ClientGoneError extends Error {
  constructor(options?: { cause?: unknown }) {
    super('The client closed the connection before the request was read', options);
    this.name = 'ClientGoneError';
  }
}
