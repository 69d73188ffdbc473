import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { ErrorCode } from './errors';

/** What one request learns on its way through, for its log line and metrics. */
export interface RequestContext {
  readonly requestId: string;
  readonly startedAt: number;
  mediaType?: string;
  bytes?: number;
  /** The catalogue code of the refusal or failure, when there was one. */
  errorCode?: ErrorCode;
  /** Why, in words for operators (never sent to the client). */
  errorDetail?: string;
  /** An unexpected error (a 500), logged whole with the request's line. */
  internalError?: Error;
  /** Why HeyGen refused the upload, when it did (the upstream refusal metric's label). */
  upstreamRefusal?: string;
  /** The end user named by a verified upload token. */
  tokenSubject?: string;
  /** Who the client is (http/client-key.ts): the rate limit, idempotency records and the log line all use it. */
  clientKey?: string;
  /** A client that sent `Expect: 100-continue` has been told to send its body (http/expect-continue.ts). */
  continueSent?: boolean;
  /** Settles when the upload handler has finished its work, whether or not the client stayed for the answer. */
  uploadSettled?: Promise<void>;
  /** The client went away before it could be answered. */
  clientClosed?: boolean;
  /**
   * The response was handed over in full ('finish' fired). `res.writableFinished` is no substitute:
   * it also waits for the socket to flush, so it can be false for a request that was answered.
   */
  answered: boolean;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      context: RequestContext;
    }
  }
}

/** An incoming X-Request-Id is kept when it is a sane token, so ids can be traced across services. */
const WELL_FORMED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestContext(): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming !== undefined && WELL_FORMED_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    const context: RequestContext = { requestId, startedAt: performance.now(), answered: false };
    res.locals.context = context;
    // Registered before any logger or metric listener, so they all see it set at 'finish'.
    res.once('finish', () => {
      context.answered = true;
    });
    res.setHeader('X-Request-Id', requestId);
    next();
  };
}

export function contextOf(res: Response): RequestContext {
  return res.locals.context;
}
