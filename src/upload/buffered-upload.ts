import type { Readable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { AllowedMediaType } from './media-types';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';
import { pump } from './pump';
import { Spool } from './spool';
import type { StreamLimiter } from './stream-limiter';

export interface OutgoingFile {
  readonly mediaType: AllowedMediaType;
  readonly filename: string;
  /** HeyGen's Idempotency-Key for this upload, from the file's SHA-256 when it is known before sending. */
  readonly upstreamKey: (fileSha256: string | undefined) => string;
}

/**
 * Buffered mode: spool the whole file first (memory, then a temp file), then send it with a known
 * Content-Length (and checksum, when hashed). HeyGen's side no longer depends on the client's speed,
 * a direct upload gets its exact size, and a failed attempt can be resent from the spool.
 */
export async function spoolUpload(
  file: Readable,
  limiter: StreamLimiter,
  outgoing: OutgoingFile,
  spoolDirectory: string,
  upstream: Upstream,
): Promise<PreparedUpload> {
  const spool = new Spool(spoolDirectory);
  try {
    await pump(file, limiter, spool);
  } catch (error) {
    await spool.dispose();
    throw error;
  }
  return replayableUpload(outgoing, limiter, () => spool.body(), upstream, () => spool.dispose());
}

/**
 * A checked file whose bytes can be read again for every send attempt (a spool, a stored resumable
 * upload): sent with its exact size, its checksum when hashed, and HeyGen's key for that checksum.
 */
export function replayableUpload(
  outgoing: OutgoingFile,
  limiter: StreamLimiter,
  body: () => Buffer | Readable,
  upstream: Upstream,
  dispose: () => Promise<void>,
): PreparedUpload {
  const { mediaType, filename } = outgoing;
  const size = limiter.bytes;
  const { sha256 } = limiter;
  const idempotencyKey = outgoing.upstreamKey(sha256);
  return {
    mediaType,
    size,
    sha256,
    send: async () => {
      const asset = await upstream.send({ mediaType, filename, idempotencyKey, body, size, ...(sha256 === undefined ? {} : { sha256 }), replayable: true });
      return toAssetRecord(asset, mediaType, size);
    },
    dispose,
  };
}
