import { MulterError } from 'multer';
import { ApiError, ClientGoneError, isApiError } from '../../errors';

/**
 * What multer's and busboy's errors mean, in the catalogue's words. Each library has one function
 * here that says how its errors are told apart: multer by MulterError's `code` (and, for the request
 * failures it raises as plain Errors, by their fixed words); busboy, which gives its errors neither a
 * code nor a type of their own, by its fixed words. Anything neither library raised (a spool that
 * cannot write, a bug) passes through unchanged, to be answered as the server's fault.
 */
export function toUploadError(error: unknown): Error {
  if (isApiError(error)) return error;
  const fromMulter = multerMeaning(error);
  if (fromMulter !== undefined) return fromMulter;
  if (isBusboyMalformation(error)) return new ApiError('MALFORMED_MULTIPART', undefined, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}

const MULTER_CODES: Readonly<Record<string, ApiError['code']>> = {
  LIMIT_FILE_COUNT: 'TOO_MANY_FILES',
  LIMIT_UNEXPECTED_FILE: 'UNEXPECTED_FILE_FIELD',
  LIMIT_FILE_SIZE: 'FILE_TOO_LARGE',
  LIMIT_PART_COUNT: 'TOO_MANY_FIELDS',
  LIMIT_FIELD_COUNT: 'TOO_MANY_FIELDS',
  LIMIT_FIELD_KEY: 'FIELD_TOO_LARGE',
  LIMIT_FIELD_VALUE: 'FIELD_TOO_LARGE',
};

/**
 * multer 2 raises a plain Error, with no code, when the request itself fails mid-body
 * (lib/make-middleware.js): 'Request aborted' on the request's 'aborted', 'Request closed' on a
 * 'close' before its end. Both mean the client went away.
 */
const MULTER_CLIENT_GONE_WORDS: ReadonlySet<string> = new Set(['Request aborted', 'Request closed']);

/** A multer error as the catalogue error it means (any other MulterError code is a malformed form); undefined if multer did not raise it. */
function multerMeaning(error: unknown): Error | undefined {
  if (error instanceof MulterError) return new ApiError(MULTER_CODES[error.code] ?? 'MALFORMED_MULTIPART', undefined, { cause: error });
  if (error instanceof Error && error.constructor === Error && MULTER_CLIENT_GONE_WORDS.has(error.message)) {
    return new ClientGoneError({ cause: error });
  }
  return undefined;
}

/**
 * busboy 1.6 reports every malformed form as a plain Error (lib/index.js, lib/types/multipart.js):
 * a part header it cannot read, a body or file part that ends before its closing boundary, a
 * Content-Type it cannot parse or whose boundary is missing, a multipart subtype other than form-data.
 */
const BUSBOY_MALFORMATION_WORDS: ReadonlySet<string> = new Set([
  'Malformed part header',
  'Unexpected end of form',
  'Unexpected end of file',
  'Multipart: Boundary not found',
  'Malformed content type',
]);
const BUSBOY_UNSUPPORTED_TYPE_PREFIX = 'Unsupported content type: ';

function isBusboyMalformation(error: unknown): error is Error {
  if (!(error instanceof Error) || error.constructor !== Error) return false;
  return BUSBOY_MALFORMATION_WORDS.has(error.message) || error.message.startsWith(BUSBOY_UNSUPPORTED_TYPE_PREFIX);
}
