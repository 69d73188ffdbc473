import { createHash, randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import { ApiError } from '../../errors';
import type { Logger } from '../../ops/logger';
import { contextOf } from '../../request-context';
import { refusalFor } from '../../state/fallback-policy';
import { clientKeyOf } from '../client-key';
import { idempotencyKeyOf } from './idempotency-key';
import { IDEMPOTENCY_IN_FLIGHT_TTL_MS, type IdempotencyStore, type StoredResponse } from './idempotency-store';

/**
 * Seconds a client answered 409 IDEMPOTENCY_CONFLICT should wait: a live holder answers in seconds,
 * and a dead one's marker is gone within IDEMPOTENCY_IN_FLIGHT_TTL_MS, a few of these.
 */
export const IDEMPOTENCY_CONFLICT_RETRY_AFTER_SECONDS = Math.ceil(IDEMPOTENCY_IN_FLIGHT_TTL_MS / 3 / 1000);

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
      const requestId = contextOf(res).requestId;
      // The store answers within the idempotency policy's time (fallback-policy.ts) or not at all.
      const reservation = await store
        .reserve(clientKey, idempotencyKey, () => {
          logger.warn({ request_id: requestId }, 'idempotency marker lost while the upload ran; a retry may upload again');
        })
        .catch((error: unknown) => {
          throw refusalFor('idempotency', error);
        });
      if (reservation.state === 'in-flight') {
        throw new ApiError('IDEMPOTENCY_CONFLICT', undefined, {
          headers: { 'Retry-After': String(IDEMPOTENCY_CONFLICT_RETRY_AFTER_SECONDS) },
        });
      }
      if (reservation.state === 'completed') return { state: 'replay', response: reservation.response };

      const { lease } = reservation;
      let unrecorded = false;
      return {
        state: 'held',
        upstreamKey: (fileSha256) => upstreamIdempotencyKey(clientKey, idempotencyKey, fileSha256),
        async record(response) {
          await store.complete(clientKey, idempotencyKey, lease, response).catch((error: unknown) => {
            // An asset exists: keep the key from retries while the marker lasts rather than free it now.
            unrecorded = true;
            lease.abandon();
            logger.error({ err: error, request_id: requestId }, 'idempotency record not saved; a retry may upload again');
          });
        },
        async end() {
          // After record() the lease is given back already; without one this frees the key for a retry.
          if (!unrecorded) await lease.release();
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
