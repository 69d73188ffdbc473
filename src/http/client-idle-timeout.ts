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
    const stopWatching = (): void => {
      socket.setTimeout(0);
    };
    socket.setTimeout(timeoutMs, () => {
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
    });
    req.once('end', stopWatching);
    res.once('close', stopWatching);
    next();
  };
}
