import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { sendError } from './error-handler';
import { contextOf } from './request-context';

/**
 * Cuts off a client that stops sending in the middle of its body: it gets 408 and the connection is
 * closed, which aborts the upload and frees its spool or upstream request. The clock runs only while
 * the body is arriving; waiting for HeyGen's answer afterwards is governed by UPSTREAM_TIMEOUT_MS.
 */
export function clientIdleTimeout(timeoutMs: number): RequestHandler {
  return (req, res, next) => {
    const socket = req.socket;
    // Listen on the request, not the socket: Node's server destroys a timed-out socket unless the
    // request (or response, or server) has a 'timeout' listener, so a socket listener never got to
    // send the 408. And on a kept-alive connection the socket outlives the request: a listener left
    // on it would fire for a later request.
    const stopWatching = (): void => {
      socket.setTimeout(0);
      req.off('timeout', onTimeout);
    };
    const onTimeout = (): void => {
      stopWatching();
      const context = contextOf(res);
      if (!res.headersSent) {
        context.errorCode = 'CLIENT_TIMEOUT';
        context.errorDetail = `no body bytes for ${timeoutMs} ms`;
        res.setHeader('Connection', 'close');
        sendError(res, new ApiError('CLIENT_TIMEOUT'));
        res.once('finish', () => socket.destroy());
      } else {
        socket.destroy();
      }
    };
    req.setTimeout(timeoutMs, onTimeout);
    req.once('end', stopWatching);
    res.once('close', stopWatching);
    next();
  };
}
