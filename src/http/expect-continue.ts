import type { IncomingMessage } from 'node:http';
import type { RequestHandler, Response } from 'express';
import { contextOf } from '../request-context';

/** Node's own test for the expectation (_http_server.js), so this agrees with when it emits 'checkContinue'. */
const CONTINUE_EXPECTATION = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * The client sent `Expect: 100-continue` and has not been told to go on: it is holding its body back
 * until it hears 100 or a final answer. The server (server.ts) leaves the 100 to the app, so only HTTP/1.1
 * requests with the header are in this state, exactly those Node hands to 'checkContinue'.
 */
export function awaitsContinue(req: IncomingMessage, res: Response): boolean {
  const expectation = req.headers.expect;
  return (
    expectation !== undefined &&
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor >= 1 &&
    CONTINUE_EXPECTATION.test(expectation) &&
    contextOf(res).continueSent !== true
  );
}

/**
 * Tells a client waiting on `Expect: 100-continue` to send its body, once every check that needs only
 * the headers has passed (origin, token, rate limit, per-client cap, concurrency gate, pre-check).
 * Node would answer 100 before any of them, and a client refused anyway would send megabytes to hear
 * its 4xx; now a refused client hears the 4xx instead of 100 and sends nothing.
 */
export function sendContinue(): RequestHandler {
  return (req, res, next) => {
    if (awaitsContinue(req, res)) {
      contextOf(res).continueSent = true;
      res.writeContinue();
    }
    next();
  };
}
