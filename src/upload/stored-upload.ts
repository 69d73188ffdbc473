import { type Readable, Writable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import { type OutgoingFile, replayableUpload } from './buffered-upload';
import type { PreparedUpload } from './prepared-upload';
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
  // The intake owns the stored file: there is nothing here to free.
  return replayableUpload(outgoing, limiter, reopen, upstream, () => Promise.resolve());
}

/** Reads a whole file through the limiter's checks, measure and hash, keeping none of it. */
export function readThrough(file: Readable, limiter: StreamLimiter): Promise<void> {
  const discard = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  return pump(file, limiter, discard);
}
