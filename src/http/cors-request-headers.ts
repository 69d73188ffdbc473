/**
 * The request headers a browser page may send cross-origin, and which of a preflight's requested
 * headers fall outside them.
 *
 * Beyond the API's own headers (Content-Type, Authorization, Idempotency-Key, X-Request-Id), upload
 * widgets send a few by default that carry no authority and change nothing the proxy does: Dropzone
 * sends `Accept`, `Cache-Control: no-cache` and `X-Requested-With: XMLHttpRequest` on every upload,
 * and refusing them would make every Dropzone upload fail as a bare network error. `Accept` is
 * usually CORS-safelisted, but not for every value, so it is listed too. Nothing else is: an unknown
 * header still fails its preflight, so a page cannot smuggle headers the proxy has not considered.
 */
export const ALLOWED_REQUEST_HEADERS = [
  'Content-Type',
  'Authorization',
  'Idempotency-Key',
  'X-Request-Id',
  'Accept',
  'Cache-Control',
  'X-Requested-With',
] as const;

const ALLOWED_LOWER_CASE = new Set(ALLOWED_REQUEST_HEADERS.map((name) => name.toLowerCase()));

/**
 * The names in an Access-Control-Request-Headers value that are not allowed, lower-cased, in the
 * order asked. Browsers send the names lower-cased and comma-separated; spacing and case are not
 * trusted.
 */
export function refusedRequestHeaders(requested: string | undefined): string[] {
  if (requested === undefined) return [];
  return requested
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '' && !ALLOWED_LOWER_CASE.has(name));
}
