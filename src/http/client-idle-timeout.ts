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
    // setTimeout(0) alone leaves the listener on the socket: on a keep-alive connection every request
    // would add one more, each holding its req and res alive until the connection closes.
    const stopWatching = (): void => {
      socket.setTimeout(0, onIdle);
    };
    const onIdle = (): void => {
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
    socket.setTimeout(timeoutMs, onIdle);
    req.once('end', stopWatching);
    res.once('close', stopWatching);
    next();
  };
}
