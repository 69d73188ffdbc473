import type { Readable } from 'node:stream';
import type { UpstreamAsset } from '../heygen/asset-record';
import type { Upstream } from '../heygen/upstream';
import { UpstreamFailure } from '../heygen/upstream-failure';
import type { FileChecks } from './file-checks';
import { HeldEnd } from './held-end';
import { InspectedStream } from './inspected-stream';
import type { OutgoingFile } from './outgoing-file';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';
import { pump } from './pump';
import { RunningSha256 } from './running-sha256';

/** How much of a streamed body is held on its way to HeyGen. */
export const UPSTREAM_BUFFER_BYTES = 256 * 1024;

/**
 * Streaming mode: the file's bytes go to HeyGen as they arrive (chunked), with backpressure from
 * HeyGen's socket back to the client's. The upstream body is left open until `send()`: HeyGen has
 * every byte but no end of body, so a form error found after the file part, a size breach or a
 * client abort can still abort it, and an aborted request never becomes an asset. `hashed`: also
 * compute the file's SHA-256 on the way (known only once it has all been sent).
 */
export async function streamUpload(
  file: Readable,
  checks: FileChecks,
  outgoing: OutgoingFile,
  upstream: Upstream,
  hashed: boolean,
): Promise<PreparedUpload> {
  const hash = hashed ? new RunningSha256() : undefined;
  let allWritten: () => void = () => undefined;
  // The checked stream is the upstream body: its end is held until send(), so HeyGen gets every
  // byte but no end of body while the rest of the form is still being checked. Its buffer is what
  // HeyGen's socket drains from.
  const heldEnd = new HeldEnd(() => allWritten());
  const body = new InspectedStream(hash === undefined ? checks.inspectors : [...checks.inspectors, hash], {
    readableHighWaterMark: UPSTREAM_BUFFER_BYTES,
    heldEnd,
  });
  const written = new Promise<void>((resolve, reject) => {
    allWritten = resolve;
    // Only its failure matters here: it resolves once HeyGen has read the released end.
    pump(file, body).catch(reject);
  });
  const controller = new AbortController();
  const answer = upstream.send({
    delivery: 'streamed',
    mediaType: outgoing.mediaType,
    mediaKind: outgoing.mediaKind,
    filename: outgoing.filename,
    // Sent before the file's checksum is known.
    idempotencyKey: outgoing.upstreamKey(undefined),
    body,
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
    body.destroy();
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
  const size = checks.budget.bytes;
  return {
    mediaType,
    size,
    sha256: hash?.hex,
    send: async () => {
      heldEnd.release();
      return toAssetRecord(await settledAnswer, mediaType, size);
    },
    dispose: () => {
      if (!settled) abort();
      return Promise.resolve();
    },
  };
}
