import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors';
import type { UploadParser } from '../intake/multipart/multipart-parser';
import { contextOf } from '../request-context';
import { drainAfterEarlyAnswer } from './early-answer';
import { type IdempotencyGuard, REPLAYED_HEADER } from './idempotency/idempotency-guard';

/** Only a created asset is worth replaying; any failure leaves the client free to try again. */
const CREATED = 201;

/**
 * POST /v1/asset, once every edge check has passed, in the order it happens: claim the
 * Idempotency-Key (or replay its earlier answer), parse the form (the core checks the file and
 * readies it), send it to HeyGen, record the success for retries, answer 201 with the trimmed
 * asset record, and give the key back if nothing was recorded.
 */
export function uploadHandler(parse: UploadParser, idempotency: IdempotencyGuard): RequestHandler {
  return async (req: Request, res: Response) => {
    const claim = await idempotency.claim(req, res);
    if (claim.state === 'replay') {
      res.setHeader(REPLAYED_HEADER, 'true');
      res.status(claim.response.status).json(claim.response.body);
      // The repeated body is not needed; read and drop it so the client sees the answer, not a reset.
      drainAfterEarlyAnswer(req, res);
      return;
    }
    try {
      const context = contextOf(res);
      const file = await parse(req, res);
      const prepared = file?.prepared;
      if (prepared === undefined) throw new ApiError('MISSING_FILE');
      context.mediaType = prepared.mediaType;
      context.bytes = prepared.size;
      try {
        const asset = await prepared.send();
        // What the proxy forwarded, beside HeyGen's record: the type the bytes decided and the size.
        // (A parallel change adds these two fields; on merge, keep that change's version.)
        const answer = { ...asset, media_type: prepared.mediaType, size_bytes: prepared.size };
        if (claim.state === 'held') await claim.record({ status: CREATED, body: answer });
        res.status(CREATED).json(answer);
      } finally {
        await prepared.dispose();
      }
    } finally {
      if (claim.state === 'held') await claim.end();
    }
  };
}
