import { randomUUID } from 'node:crypto';
import { type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, type ErrorCode } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import type { ErrorBody } from './error-handler';

/** Node's parser errors and timeouts, in the catalogue's words; any other parser error is a 400. */
const CLIENT_ERROR_CODES: Readonly<Record<string, ErrorCode>> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'CLIENT_TIMEOUT',
};

/** A request that never became one: its headers (or its whole body) did not arrive in time. */
const REQUEST_TIMEOUT_MESSAGE = 'The request did not arrive in time and was cut off.';

/**
 * The server's 'clientError' listener: what Node would answer on its own (a bare 400 for a malformed
 * request, 431 for oversized headers, 408 for a header or request timeout), answered instead with the
 * catalogue's JSON, a request id and X-Request-Id, like every other error. There is no request or
 * response object here, so the answer is written to the socket as raw HTTP/1.1, and only where Node
 * itself would write one: the socket still writable and no response of ours already under way on it
 * (writing then would corrupt the stream the client is reading).
 */
export function answerClientError(logger: Logger, metrics: Metrics): (error: Error & { code?: string }, socket: Duplex) => void {
  return (error, socket) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage ?? undefined;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent === true) {
      socket.destroy();
      return;
    }
    const code = CLIENT_ERROR_CODES[error.code ?? ''] ?? 'BAD_REQUEST';
    const apiError = new ApiError(code, code === 'CLIENT_TIMEOUT' ? REQUEST_TIMEOUT_MESSAGE : undefined);
    // A request whose body timed out has an id already (its response is pending): keep it, so the
    // client's answer and the log line name the same request.
    const existingId = inFlight?.getHeader('x-request-id');
    const requestId = typeof existingId === 'string' ? existingId : randomUUID();
    const body: ErrorBody = { error: { code: apiError.code, message: apiError.message, request_id: requestId } };
    const text = JSON.stringify(body);
    socket.end(
      `HTTP/1.1 ${apiError.status} ${STATUS_CODES[apiError.status] ?? 'Error'}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(text)}\r\n` +
        `X-Request-Id: ${requestId}\r\n` +
        'Cache-Control: no-store\r\n' +
        'X-Content-Type-Options: nosniff\r\n' +
        'Connection: close\r\n' +
        `\r\n${text}`,
      // Then let go at once: the client may still be sending, and nothing more will be read.
      () => socket.destroy(),
    );
    metrics.rejected.inc({ code: apiError.code });
    // Only Node's error code: its rawPacket holds the request's own bytes, credentials and all.
    logger.info({ reqId: requestId, status: apiError.status, outcome: apiError.code, detail: error.code }, 'malformed request answered');
  };
}
