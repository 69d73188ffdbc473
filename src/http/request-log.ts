import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../ops/logger';
import { contextOf } from './request-context';

/** Probes and scrapes arrive every few seconds; logging them would bury the uploads. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One log line per request when it ends, with what an operator needs: request id, route, status,
 * duration, outcome, media type, bytes and the rate limiter's key. Headers and bodies are never
 * logged, so no credential can reach the log from a request.
 */
export function requestLog(logger: Logger): RequestHandler {
  const middleware: RequestHandler = pinoHttp({
    logger,
    quietReqLogger: true,
    quietResLogger: true,
    genReqId: (_req, res) => contextOf(res as Response).requestId,
    autoLogging: { ignore: (req) => QUIET_PATHS.has((req as Request).path) },
    customLogLevel: (_req, res, error) => {
      if (error !== undefined || res.statusCode >= 500) return 'error';
      return 'info';
    },
    customSuccessMessage: (req) => `${req.method} ${(req as Request).path} finished`,
    customErrorMessage: (req) => `${req.method} ${(req as Request).path} failed`,
    customSuccessObject: (req, res) => summarise(req as Request, res as Response),
    customErrorObject: (req, res, error) => ({ ...summarise(req as Request, res as Response), err: error }),
  });
  return middleware;
}

function summarise(req: Request, res: Response): Record<string, unknown> {
  const context = contextOf(res);
  const clientClosed = context.clientClosed === true || !context.answered;
  return {
    method: req.method,
    path: req.path,
    status: clientClosed ? undefined : res.statusCode,
    duration_ms: Math.round(performance.now() - context.startedAt),
    outcome: clientClosed ? 'CLIENT_CLOSED' : (context.errorCode ?? 'OK'),
    media_type: context.mediaType,
    bytes: context.bytes,
    client_key: context.rateLimitKey,
    detail: context.errorDetail,
  };
}
