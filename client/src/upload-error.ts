import type { components } from './api-types';

/** The proxy's stable codes, as /openapi.json lists them. */
export type ProxyErrorCode = components['schemas']['ErrorCode'];

/**
 * Codes the client gives when the proxy's answer could not be read: no answer at all (a network
 * failure, or an origin the proxy does not list: browsers hide both behind status 0), an upload the
 * caller cancelled, or an answer that is not the proxy's JSON (a gateway's HTML page, say).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'CANCELLED' | 'UNEXPECTED_RESPONSE';

export type UploadErrorCode = ProxyErrorCode | ClientErrorCode;

/**
 * Every failure `upload` reports: the proxy's own code, message and request id when it answered, so
 * a page branches on `code` alone whichever path (multipart, tus, the local check) failed.
 */
export class UploadError extends Error {
  readonly code: UploadErrorCode;
  /** The HTTP status; 0 when no answer could be read (network, refused origin, cancelled). A file refused locally by /v1/limits gets the status the proxy would have answered (413). */
  readonly status: number;
  readonly requestId: string | null;
  /** Seconds from Retry-After, when the answer had one. */
  readonly retryAfterSeconds: number | null;

  constructor(code: UploadErrorCode, message: string, status: number, requestId: string | null = null, retryAfterSeconds: number | null = null) {
    super(message);
    this.name = 'UploadError';
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** The plain shape, for logs and for pages that pass errors across boundaries (postMessage, JSON). */
  toJSON(): { code: UploadErrorCode; message: string; status: number; requestId: string | null } {
    return { code: this.code, message: this.message, status: this.status, requestId: this.requestId };
  }
}

export function networkError(url: string): UploadError {
  return new UploadError(
    'NETWORK_ERROR',
    `No answer from ${new URL(url).origin}: the network failed, or this page's origin is not allowed to read its answers.`,
    0,
  );
}

export function cancelledError(): UploadError {
  return new UploadError('CANCELLED', 'The upload was cancelled.', 0);
}

export function isUploadError(value: unknown): value is UploadError {
  return value instanceof UploadError;
}
