import type { Readable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { AllowedMediaType } from './media-types';
import type { PreparedUpload } from './prepared-upload';
import { pump } from './pump';
import { Spool } from './spool';
import type { StreamLimiter } from './stream-limiter';

/**
 * Buffered mode: spool the whole file first (memory, then a temp file), then send it with a known
 * Content-Length. HeyGen's side no longer depends on the client's speed, and a connection that
 * fails before any answer can be retried from the spool.
 */
export async function spoolUpload(
  file: Readable,
  limiter: StreamLimiter,
  mediaType: AllowedMediaType,
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
  return {
    mediaType,
    size: spool.size,
    send: () =>
      upstream.send({
        mediaType,
        body: () => spool.body(),
        size: spool.size,
        replayable: true,
      }),
    dispose: () => spool.dispose(),
  };
}
