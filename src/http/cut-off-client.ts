import type { Request, Response } from 'express';
import { ApiError, type ErrorCode } from '../errors';
import { contextOf } from '../request-context';
import { sendError } from './error-handler';

/**
 * Ends an upload whose client is not sending as it should: it is answered `code` (when nothing has
 * been answered yet) and the connection is closed, which aborts the upload and frees its slot, its
 * spool or its upstream request. `detail` is for the log.
 */
export function cutOffClient(req: Request, res: Response, code: ErrorCode, detail: string): void {
  if (res.headersSent) {
    req.destroy();
    return;
  }
  const context = contextOf(res);
  context.errorCode = code;
  context.errorDetail = detail;
  res.setHeader('Connection', 'close');
  sendError(res, new ApiError(code));
  // Destroy the request, not just its socket: once a response has finished, Node no longer
  // tells an unread request that its socket closed, and the upload would hang on it forever.
  res.once('finish', () => req.destroy());
}
