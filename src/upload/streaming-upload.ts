import type { Readable } from 'node:stream';
import type { UpstreamAsset } from '../heygen/asset-record';
import type { Upstream } from '../heygen/upstream';
import { UpstreamFailure } from '../heygen/upstream-failure';
import type { OutgoingFile } from './buffered-upload';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';
import { pump } from './pump';
import type { StreamLimiter } from './stream-limiter';

/**
 * Streaming mode: the file's bytes go to HeyGen as they arrive (chunked), with backpressure from
 * HeyGen's socket back to the client's. The upstream body is left open until `send()`: HeyGen has
 * every byte but no end of body, so a form error found after the file part, a size breach or a
 * client abort can still abort it, and an aborted request never becomes an asset.
 */
export async function streamUpload(
  file: Readable,
  limiter: StreamLimiter,
  outgoing: OutgoingFile,
  upstream: Upstream,
): Promise<PreparedUpload> {
  // The limiter is the upstream body: its end is held until send(), so HeyGen gets every byte but
  // no end of body while the rest of the form is still being checked.
  const written = new Promise<void>((resolve, reject) => {
    limiter.holdEnd(resolve);
    // Only its failure matters here: it resolves once HeyGen has read the released end.
    pump(file, limiter).catch(reject);
  });
  const controller = new AbortController();
  const answer = upstream.send({
    mediaType: outgoing.mediaType,
    filename: outgoing.filename,
    // Sent before the file's checksum is known.
    idempotencyKey: outgoing.upstreamKey(undefined),
    body: () => limiter,
    replayable: false,
    signal: controller.signal,
  });
  let settled = false;
  const settledAnswer: Promise<UpstreamAsset> = answer.finally(() => {
    settled = true;
  });
  // Until send() the answer is watched below; keep an early rejection from counting as unhandled.
  settledAnswer.catch(() => undefined);

  const abort = (): void => {
    controller.abort();
    limiter.destroy();
  };

  // HeyGen must not answer before the body ends; if it does (an error, a dropped connection),
  // stop reading the file and report that answer. The failure is built only then: on the normal
  // path the answer comes after send(), and an error's stack is not free on every upload.
  let bodyWritten = false;
  const answeredEarly = settledAnswer.then(
    () => (bodyWritten ? undefined : Promise.reject(new UpstreamFailure('HeyGen answered before the body ended'))),
    (error: unknown) => Promise.reject(error instanceof Error ? error : new Error(String(error))),
  );
  try {
    await Promise.race([written, answeredEarly]);
    bodyWritten = true;
  } catch (error) {
    abort();
    file.destroy();
    throw error;
  }

  const { mediaType } = outgoing;
  const size = limiter.bytes;
  return {
    mediaType,
    size,
    sha256: limiter.sha256,
    send: async () => {
      limiter.releaseEnd();
      return toAssetRecord(await settledAnswer, mediaType, size);
    },
    dispose: () => {
      if (!settled) abort();
      return Promise.resolve();
    },
  };
}
