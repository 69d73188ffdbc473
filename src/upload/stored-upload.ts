import { type Readable, Writable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { OutgoingFile } from './buffered-upload';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';
import { pump } from './pump';
import type { StreamLimiter } from './stream-limiter';

/**
 * A file an intake has already stored whole (a finished resumable upload): there is nothing to spool.
 * One pass through the limiter checks it (type, size, structure) and measures and hashes it, keeping
 * none of it; each send attempt then reads the stored file again (`reopen`), so no second copy is
 * ever written. The intake owns the stored file: dispose() frees nothing here.
 */
export async function checkStoredUpload(
  file: Readable,
  limiter: StreamLimiter,
  outgoing: OutgoingFile,
  reopen: () => Readable,
  upstream: Upstream,
): Promise<PreparedUpload> {
  await readThrough(file, limiter);
  const { mediaType, filename } = outgoing;
  const size = limiter.bytes;
  const { sha256 } = limiter;
  const idempotencyKey = outgoing.upstreamKey(sha256);
  return {
    mediaType,
    size,
    sha256,
    send: async () => {
      const asset = await upstream.send({
        mediaType,
        filename,
        idempotencyKey,
        body: reopen,
        size,
        ...(sha256 === undefined ? {} : { sha256 }),
        replayable: true,
      });
      return toAssetRecord(asset, mediaType, size);
    },
    dispose: () => Promise.resolve(),
  };
}

/** Reads a whole file through the limiter's checks, measure and hash, keeping none of it. */
export function readThrough(file: Readable, limiter: StreamLimiter): Promise<void> {
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return pump(file, limiter, discard);
}
