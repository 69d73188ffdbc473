import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../ops/logger';
import { contextOf } from '../request-context';

/** Probes and scrapes arrive every few seconds; logging them would bury the uploads. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request when it ends ('close' fires once for every response, answered or not),
 * with what an operator needs: request id, route, status, duration, outcome, media type, bytes and
 * the rate limiter's key. Headers and bodies are never logged, so no credential can reach the log
 * from a request.
 *
 * Written on pino directly rather than through pino-http: pino-http builds two child loggers per
 * request (one serialising the whole request) that this line never uses. The line's fields are the
 * ones pino-http wrote.
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!QUIET_PATHS.has(req.path)) {
      res.once('close', () => writeLine(logger, req, res));
    }
    next();
  };
}

function writeLine(logger: Logger, req: Request, res: Response): void {
  const context = contextOf(res);
  // Not req.path: a middleware mounted on a path (CORS on /v1/asset) that answers without calling
  // next() leaves req.url stripped of its mount point, so req.path would read "/".
  const path = req.originalUrl.split('?', 1)[0] ?? req.originalUrl;
  const clientClosed = context.clientClosed === true || !context.answered;
  const line = {
    reqId: context.requestId,
    method: req.method,
    path,
    status: clientClosed ? undefined : res.statusCode,
    duration_ms: Math.round(performance.now() - context.startedAt),
    outcome: clientClosed ? 'CLIENT_CLOSED' : (context.errorCode ?? 'OK'),
    media_type: context.mediaType,
    bytes: context.bytes,
    client_key: context.clientKey,
    detail: context.errorDetail,
  };
  if (context.internalError !== undefined || (!clientClosed && res.statusCode >= 500)) {
    logger.error({ ...line, err: context.internalError }, `${req.method} ${path} failed`);
  } else {
    logger.info(line, `${req.method} ${path} finished`);
  }
}
