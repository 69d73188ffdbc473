import { createHash, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { ApiError } from '../../errors';
import type { Logger } from '../../ops/logger';
import { contextOf } from '../../request-context';
import { IDEMPOTENCY_IN_FLIGHT_TTL_MS, IDEMPOTENCY_STORE_TIMEOUT_MS } from '../../upload/limits';
import { clientKeyOf } from '../client-key';
import { withTimeout } from '../../with-timeout';
import { idempotencyKeyOf } from './idempotency-key';
import type { IdempotencyStore, StoredResponse } from './idempotency-store';

/** Set on a response that repeats an earlier one instead of uploading again. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * What the guard found for one request:
 * - `unkeyed`: no Idempotency-Key; upload as usual.
 * - `replay`: an earlier request with this key created an asset; answer with its response.
 * - `held`: this request now holds the key. `record` saves its success (call it before answering,
 *   so a retry sent the moment the answer arrives finds it); `end` must always run, and gives the
 *   key back when nothing was recorded, so the client may try again.
 */
export type IdempotencyClaim =
  | { readonly state: 'unkeyed' }
  | { readonly state: 'replay'; readonly response: StoredResponse }
  | {
      readonly state: 'held';
      /**
       * What HeyGen gets as its Idempotency-Key: the same for every retry of this client's key with
       * this file (its SHA-256), so a retry finds the first asset even when this proxy's record is
       * lost, and a different file under the same key never does. Without the checksum (a streamed
       * upload sends before it is known) a fresh key: HeyGen then cannot dedupe, but never mixes files.
       */
      upstreamKey(fileSha256: string | undefined): string;
      record(response: StoredResponse): Promise<void>;
      end(): Promise<void>;
    };

export interface IdempotencyGuard {
  /** Throws IDEMPOTENCY_CONFLICT while another request holds the key, IDEMPOTENCY_UNAVAILABLE when the store does not answer. */
  claim(req: Request, res: Response): Promise<IdempotencyClaim>;
}

/**
 * Idempotency-Key handling, as steps the upload handler takes in order (claim, upload, record,
 * answer, end): a request with a key uploads at most once per client (clientKeyOf) and key. The key
 * is held until the handler itself ends, because only that says whether an asset may exist: a client
 * can vanish while its spooled file is still going to HeyGen, and releasing the key at that moment
 * would let its retry upload a second copy.
 */
export function createIdempotencyGuard(store: IdempotencyStore, logger: Logger): IdempotencyGuard {
  return {
    async claim(req, res) {
      const idempotencyKey = idempotencyKeyOf(req);
      if (idempotencyKey === undefined) return { state: 'unkeyed' };
      const clientKey = clientKeyOf(req, res);
      const reserving = store.reserve(clientKey, idempotencyKey);
      const reservation = await bounded(reserving).catch((error: unknown) => {
        // Given up on, the store may still take the marker later: give it back then, or every retry
        // of this key would meet a marker nobody holds until it expires.
        reserving.then((late) => (late.state === 'reserved' ? store.release(clientKey, idempotencyKey, late.token) : undefined)).catch(() => undefined);
        throw error;
      });
      if (reservation.state === 'in-flight') throw new ApiError('IDEMPOTENCY_CONFLICT');
      if (reservation.state === 'completed') return { state: 'replay', response: reservation.response };

      const { token } = reservation;
      const requestId = contextOf(res).requestId;
      let recorded = false;
      const heartbeat = setInterval(() => {
        store.refresh(clientKey, idempotencyKey, token).catch((error: unknown) => {
          logger.warn({ err: error, request_id: requestId }, 'idempotency marker not refreshed');
        });
      }, IDEMPOTENCY_IN_FLIGHT_TTL_MS / 3);
      heartbeat.unref();

      return {
        state: 'held',
        upstreamKey: (fileSha256) => upstreamIdempotencyKey(clientKey, idempotencyKey, fileSha256),
        async record(response) {
          recorded = true;
          await bounded(store.complete(clientKey, idempotencyKey, token, response)).catch((error: unknown) => {
            logger.error({ err: error, request_id: requestId }, 'idempotency record not saved; a retry may upload again');
          });
        },
        async end() {
          clearInterval(heartbeat);
          if (recorded) return;
          await bounded(store.release(clientKey, idempotencyKey, token)).catch((error: unknown) => {
            logger.warn({ err: error, request_id: requestId }, 'idempotency marker not released; it will expire');
          });
        },
      };
    },
  };
}

/**
 * HeyGen's Idempotency-Key for a client's key and file: a hash of who the client is, the key it sent
 * and the file's SHA-256, so a retry after this replica lost its own record (a restart, a lost Redis)
 * still creates no second asset, while no client can guess or collide with another's upload.
 */
function upstreamIdempotencyKey(clientKey: string, idempotencyKey: string, fileSha256: string | undefined): string {
  if (fileSha256 === undefined) return `hup-${randomUUID()}`;
  return `hup-${createHash('sha256').update(clientKey).update('\0').update(idempotencyKey).update('\0').update(fileSha256).digest('hex')}`;
}

/** Every store call answers within IDEMPOTENCY_STORE_TIMEOUT_MS or counts as the store being unavailable. */
function bounded<T>(operation: Promise<T>): Promise<T> {
  return withTimeout(
    operation,
    IDEMPOTENCY_STORE_TIMEOUT_MS,
    `idempotency store did not answer within ${IDEMPOTENCY_STORE_TIMEOUT_MS} ms`,
  ).catch((error: unknown) => {
    throw new ApiError('IDEMPOTENCY_UNAVAILABLE', undefined, { cause: error });
  });
}
