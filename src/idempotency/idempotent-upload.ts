import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors';
import { withTimeout } from '../with-timeout';
import { drainAfterEarlyAnswer } from '../http/early-answer';
import { contextOf } from '../http/request-context';
import type { Logger } from '../ops/logger';
import { IN_FLIGHT_TTL_MS, type IdempotencyStore } from './idempotency-store';
import { idempotencyKeyOf } from './idempotency-key';

/** Set on a response that repeats an earlier one instead of uploading again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** A store call slower than this fails the request with 503 rather than hold it (and its slot) open. */
export const STORE_TIMEOUT_MS = 2_000;

/** Only a created asset is worth replaying; any failure leaves the client free to try again. */
const STORED_STATUS = 201;

export interface IdempotencyOptions {
  readonly store: IdempotencyStore;
  readonly logger: Logger;
  /** Who the request belongs to: the rate limiter's key (the client address, or later a token's subject). */
  readonly clientKey?: (req: Request, res: Response) => string;
}

const byClientAddress = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/**
 * Wraps the upload handler so a request with an Idempotency-Key uploads at most once per client and
 * key. It wraps rather than precedes the handler because only the handler's own end says whether an
 * asset may exist: a client can vanish while its spooled file is still going to HeyGen, and releasing
 * the key at that moment would let its retry upload a second copy.
 */
export function idempotentUpload(options: IdempotencyOptions, handler: RequestHandler): RequestHandler {
  const clientKeyOf = options.clientKey ?? byClientAddress;
  const { store, logger } = options;

  return async (req: Request, res: Response, next: NextFunction) => {
    const idempotencyKey = idempotencyKeyOf(req);
    if (idempotencyKey === undefined) {
      await handler(req, res, next);
      return;
    }
    const clientKey = clientKeyOf(req, res);
    const reservation = await bounded(store.reserve(clientKey, idempotencyKey));
    if (reservation.state === 'in-flight') throw new ApiError('IDEMPOTENCY_CONFLICT');
    if (reservation.state === 'completed') {
      res.setHeader(REPLAYED_HEADER, 'true');
      res.status(reservation.response.status).json(reservation.response.body);
      // The repeated body is not needed; read and drop it so the client sees the answer, not a reset.
      drainAfterEarlyAnswer(req, res);
      return;
    }

    const { token } = reservation;
    let stored = false;
    // Record the success before the client can see it, so that a retry sent the moment the answer
    // arrives finds it (and not the in-flight marker).
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode !== STORED_STATUS || stored) return send(body);
      stored = true;
      bounded(store.complete(clientKey, idempotencyKey, token, { status: res.statusCode, body })).then(
        () => send(body),
        (error: unknown) => {
          logger.error({ err: error, request_id: contextOf(res).requestId }, 'idempotency record not saved; a retry may upload again');
          send(body);
        },
      );
      return res;
    };
    const heartbeat = setInterval(() => {
      store.refresh(clientKey, idempotencyKey, token).catch((error: unknown) => {
        logger.warn({ err: error, request_id: contextOf(res).requestId }, 'idempotency marker not refreshed');
      });
    }, IN_FLIGHT_TTL_MS / 3);
    heartbeat.unref();

    let failed = false;
    try {
      await handler(req, res, (error?: unknown) => {
        failed = true;
        next(error);
      });
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      clearInterval(heartbeat);
      if (failed || !stored) {
        await bounded(store.release(clientKey, idempotencyKey, token)).catch((error: unknown) => {
          logger.warn({ err: error, request_id: contextOf(res).requestId }, 'idempotency marker not released; it will expire');
        });
      }
    }
  };
}

/** Every store call answers within STORE_TIMEOUT_MS or counts as the store being unavailable. */
function bounded<T>(operation: Promise<T>): Promise<T> {
  return withTimeout(operation, STORE_TIMEOUT_MS, `idempotency store did not answer within ${STORE_TIMEOUT_MS} ms`).catch(
    (error: unknown) => {
      throw new ApiError('IDEMPOTENCY_UNAVAILABLE', undefined, { cause: error });
    },
  );
}
