import type { RequestHandler } from 'express';
import { cutOffClient } from './cut-off-client';

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
      cutOffClient(req, res, 'CLIENT_TIMEOUT', `no body bytes for ${timeoutMs} ms`);
    });
    req.once('end', stopWatching);
    res.once('close', stopWatching);
    next();
  };
}
