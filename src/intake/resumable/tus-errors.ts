import { ERRORS } from '@tus/utils';
import { ApiError } from '../../errors';

/**
 * @tus/server's own refusals in catalogue words. It answers with a status and a line of text (its
 * ERRORS table, or a few texts it writes directly, such as a missing Tus-Resumable); the catalogue
 * code follows from the status, and the text where one status covers several cases.
 */
export function fromTusRefusal(status: number, body: string): ApiError {
  const cause = { cause: new Error(`tus: ${status} ${body.trim()}`) };
  const is = (entry: { body: string }): boolean => body === entry.body;
  switch (status) {
    case 404:
      return new ApiError('UPLOAD_NOT_FOUND', undefined, cause);
    case 409:
      return new ApiError('OFFSET_MISMATCH', undefined, cause);
    case 410:
      return new ApiError('UPLOAD_EXPIRED', undefined, cause);
    case 412:
      return new ApiError('TUS_RESUMABLE_REQUIRED', undefined, cause);
    case 413:
      return is(ERRORS.ERR_SIZE_EXCEEDED)
        ? new ApiError('FILE_TOO_LARGE', 'The request carries more bytes than the upload has left (Upload-Length).', cause)
        : new ApiError('FILE_TOO_LARGE', undefined, cause);
    case 501:
      return is(ERRORS.UNSUPPORTED_CREATION_DEFER_LENGTH_EXTENSION)
        ? new ApiError('UPLOAD_LENGTH_REQUIRED', undefined, cause)
        : new ApiError('INVALID_TUS_REQUEST', 'Only the core, creation, termination and expiration extensions are supported (no concatenation).', cause);
    case 400:
    case 403:
      return new ApiError(is(ERRORS.INVALID_LENGTH) ? 'UPLOAD_LENGTH_REQUIRED' : 'INVALID_TUS_REQUEST', tusWords(body), cause);
    default:
      if (is(ERRORS.ERR_LOCK_TIMEOUT)) return new ApiError('UPLOAD_LOCKED', undefined, { ...cause, headers: { 'Retry-After': '1' } });
      return new ApiError('INTERNAL_ERROR', undefined, cause);
  }
}

/** tus's own words for a malformed request are fit for a developer; a few are rephrased. */
function tusWords(body: string): string | undefined {
  if (body === ERRORS.INVALID_TERMINATION.body) return 'This upload is complete and can no longer be terminated.';
  if (body === ERRORS.INVALID_LENGTH.body) return undefined;
  const text = body.trim();
  return text === '' ? undefined : `The request is not a valid tus 1.0.0 request: ${text.replace(/\.$/, '')}.`;
}
