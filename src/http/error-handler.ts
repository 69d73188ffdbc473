import type { ErrorRequestHandler, Response } from 'express';
import { ApiError, ClientGoneError, isApiError } from '../errors';
import { isUpstreamFailure, type UpstreamFailure } from '../heygen/upstream-failure';
import { contextOf, type RequestContext } from '../request-context';
import { drainAfterEarlyAnswer } from './early-answer';
import { awaitsContinue } from './expect-continue';

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly request_id: string };
}

/** Answers with the catalogue's JSON shape; `extra` adds fields beside `error` (e.g. readiness checks). */
export function sendError(res: Response, error: ApiError, extra: Record<string, unknown> = {}): void {
  const { requestId } = contextOf(res);
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  // A client still holding its body back for a 100 will not send it now: say the connection ends
  // here (RFC 9110 §10.1.1), or the next request on it would be read as this one's body.
  if (awaitsContinue(res.req, res)) res.setHeader('Connection', 'close');
  const body: ErrorBody = { error: { code: error.code, message: error.message, request_id: requestId } };
  res.status(error.status).json({ ...body, ...extra });
}

/**
 * The last middleware: every error becomes a catalogue JSON answer. Unknown errors are a 500 whose
 * details go to the log only.
 */
export function errorHandler(): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const context = contextOf(res);
    if (error instanceof ClientGoneError || req.socket.destroyed) {
      context.clientClosed = true;
      if (!res.writableEnded) res.destroy();
      return;
    }
    const apiError = toApiError(error);
    context.errorCode = apiError.code;
    const cause = apiError.cause ?? (apiError === error ? undefined : error);
    if (cause instanceof Error) context.errorDetail = cause.message;
    if (isUpstreamFailure(cause)) noteRefusal(context, cause);
    if (apiError.code === 'INTERNAL_ERROR') context.internalError = error instanceof Error ? error : new Error(String(error));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendError(res, apiError);
    drainAfterEarlyAnswer(req, res);
  };
}

/** A refusal by HeyGen is named in the log line and counted by reason, so "key invalid" or "out of credit" shows at once. */
function noteRefusal(context: RequestContext, failure: UpstreamFailure): void {
  const reason =
    failure.kind === 'credentials' ? failure.reason : failure.kind === 'rate-limited' || failure.kind === 'rejected-file' || failure.kind === 'too-large' ? failure.kind.replace('-', '_') : undefined;
  if (reason === undefined) return;
  context.upstreamRefusal = reason;
  if (failure.kind === 'credentials') context.errorDetail = `HeyGen refused the server's credentials (${reason}): ${failure.message}`;
}

/** Errors from Express's own layers carry a 4xx status (e.g. a malformed URL); others are ours. */
function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  if (isUpstreamFailure(error)) return fromUpstreamFailure(error);
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 400) return new ApiError('BAD_REQUEST', undefined, { cause: error });
  return new ApiError('INTERNAL_ERROR', undefined, { cause: error });
}

/**
 * What the client should do next about a failure at HeyGen: retry later (503 with Retry-After), not
 * resend this file (422), send a smaller one (413), or nothing it can do (502, 504). What HeyGen said
 * stays in the log; a refusal of the server's own key or account is a plain 502 to the client.
 */
export function fromUpstreamFailure(failure: UpstreamFailure): ApiError {
  const cause = { cause: failure };
  switch (failure.kind) {
    case 'rate-limited':
      return new ApiError('UPSTREAM_BUSY', undefined, { ...cause, headers: { 'Retry-After': String(failure.retryAfterSeconds ?? 1) } });
    case 'rejected-file':
      return new ApiError('UPSTREAM_REJECTED_FILE', undefined, cause);
    case 'too-large':
      return new ApiError('FILE_TOO_LARGE', 'The file is larger than the media service takes.', cause);
    case 'timeout':
      return new ApiError('UPSTREAM_TIMEOUT', undefined, cause);
    case 'credentials':
    case 'failed':
      return new ApiError('UPSTREAM_ERROR', undefined, cause);
  }
}
