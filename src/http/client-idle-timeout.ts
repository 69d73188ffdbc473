import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { sendError } from './error-handler';
import { contextOf } from '../request-context';

/**
 * Cuts off a client that stops sending in the middle of its body: it gets 408 and the connection is
 * closed, which aborts the upload and frees its spool or upstream request. The clock runs only while
 * the body is arriving; waiting for HeyGen's answer afterwards is governed by UPSTREAM_TIMEOUT_MS.
 */
export function clientIdleTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const stopWatching = (): void => {
      req.setTimeout(0);
    };
    // On the request, not the socket: Node's server destroys a timed-out socket unless the request
    // (or response, or server) has a 'timeout' listener, and the 408 must reach the client first.
    req.setTimeout(timeoutMs, () => {
      stopWatching();
      const context = contextOf(res);
      if (!res.headersSent) {
        context.errorCode = 'CLIENT_TIMEOUT';
        context.errorDetail = `no body bytes for ${timeoutMs} ms`;
        res.setHeader('Connection', 'close');
        sendError(res, new ApiError('CLIENT_TIMEOUT'));
        // Destroy the request, not just its socket: once a response has finished, Node no longer
        // tells an unread request that its socket closed, and the upload would hang on it forever.
        res.once('finish', () => req.destroy());
      } else {
        req.destroy();
      }
    });
    req.once('end', stopWatching);
    res.once('close', stopWatching);
    next();
  };
}
