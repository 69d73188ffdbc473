import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors';
import type { UploadParser } from '../intake/multipart/multipart-parser';
import { contextOf } from '../request-context';
import type { UploadIntent } from '../upload/prepare-upload';
import type { PreparedUpload } from '../upload/prepared-upload';
import { type IdempotencyClaim, type IdempotencyGuard, REPLAYED_HEADER } from './idempotency/idempotency-guard';

/** Only a created asset is worth replaying; any failure leaves the client free to try again. */
const CREATED = 201;

/**
 * POST /v1/asset, once every edge check has passed, in the order it happens: claim the
 * Idempotency-Key, parse the form (the core checks the file and readies it), send it to HeyGen,
 * record the success for retries, answer 201 with the asset record, and give the key back if nothing
 * was recorded. A repeated key whose upload succeeded gets that answer again, once the repeated file
 * has been read and proven to be the same one.
 */
export function uploadHandler(parse: UploadParser, idempotency: IdempotencyGuard): RequestHandler {
  return (req: Request, res: Response) => {
    const work = upload(req, res, parse, idempotency);
    // The edge's slot and lease are held until this settles, even when the client has gone.
    contextOf(res).uploadSettled = work.then(
      () => undefined,
      () => undefined,
    );
    return work;
  };
}

async function upload(req: Request, res: Response, parse: UploadParser, idempotency: IdempotencyGuard): Promise<void> {
  const claim = await idempotency.claim(req, res);
  if (claim.state === 'replay') {
    await replay(req, res, parse, claim.response);
    return;
  }
  try {
    const prepared = await parseFile(req, res, parse, intentFor(req, claim));
    try {
      const asset = await prepared.send();
      if (claim.state === 'held') await claim.record({ status: CREATED, body: asset, ...shaOf(prepared) });
      res.status(CREATED).json(asset);
    } finally {
      await prepared.dispose();
    }
  } finally {
    if (claim.state === 'held') await claim.end();
  }
}

async function parseFile(req: Request, res: Response, parse: UploadParser, intent: UploadIntent): Promise<PreparedUpload> {
  const file = await parse(req, res, intent);
  const prepared = file?.prepared;
  if (prepared === undefined) throw new ApiError('MISSING_FILE');
  const context = contextOf(res);
  context.mediaType = prepared.mediaType;
  context.bytes = prepared.size;
  return prepared;
}

/** The earlier answer, only for the same file: a different file under a used key is the client's mistake, not a retry. */
async function replay(req: Request, res: Response, parse: UploadParser, earlier: Extract<IdempotencyClaim, { state: 'replay' }>['response']): Promise<void> {
  const repeated = await parseFile(req, res, parse, { upstreamKey: freshUpstreamKey, checksum: true, purpose: 'fingerprint' });
  if (earlier.sha256 !== repeated.sha256) throw new ApiError('IDEMPOTENCY_KEY_REUSED');
  res.setHeader(REPLAYED_HEADER, 'true');
  res.status(earlier.status).json(earlier.body);
}

function intentFor(req: Request, claim: IdempotencyClaim): UploadIntent {
  const declaredLength = Number(req.get('content-length'));
  return {
    upstreamKey: claim.state === 'held' ? (fileSha256) => claim.upstreamKey(fileSha256) : freshUpstreamKey,
    ...(Number.isSafeInteger(declaredLength) && declaredLength >= 0 ? { sizeAtMost: declaredLength } : {}),
    checksum: claim.state === 'held',
    purpose: 'forward',
  };
}

/** HeyGen's Idempotency-Key for an upload without a client key: its own, so only this upload's retries share it. */
function freshUpstreamKey(): string {
  return `hup-${randomUUID()}`;
}

function shaOf(prepared: PreparedUpload): { sha256?: string } {
  return prepared.sha256 === undefined ? {} : { sha256: prepared.sha256 };
}
