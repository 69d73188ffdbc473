import type { Readable } from 'node:stream';
import type { UpstreamMode } from '../config';
import { ApiError } from '../errors';
import type { Upstream } from '../heygen/upstream';
import { spoolUpload } from './buffered-upload';
import { checkStoredUpload, readThrough } from './stored-upload';
import { detectMediaType } from './detect-media-type';
import { safeFileName } from './file-name';
import { DETECTION_BYTES, type MediaLimits, tooLargeMessage, UPSTREAM_BUFFER_BYTES } from './limits';
import { type AllowedMediaType, kindOf } from './media-types';
import type { PreparedUpload } from './prepared-upload';
import { readHead } from './read-head';
import { resolveMediaType } from './resolve-media-type';
import { StreamLimiter } from './stream-limiter';
import { structureWalkerFor } from './structure';
import { streamUpload } from './streaming-upload';

export interface UploadCore {
  readonly mode: UpstreamMode;
  readonly maxBytes: MediaLimits;
  readonly spoolDirectory: string;
  readonly upstream: Upstream;
}

/** What the edge knows of an upload before its file arrives. */
export interface UploadIntent {
  /**
   * The Idempotency-Key HeyGen gets on every creating call of this upload, given the file's SHA-256
   * when it is known before sending (buffered mode with `checksum`), else undefined.
   */
  readonly upstreamKey: (fileSha256: string | undefined) => string;
  /** The file is at most this large (the request's Content-Length), when the edge can tell. */
  readonly sizeAtMost?: number;
  /** Hash the file (an idempotent request records its checksum, so a replay can prove it is the same file). */
  readonly checksum: boolean;
  /**
   * `forward` checks the file and readies it for HeyGen; `fingerprint` checks it and only measures
   * and hashes it (a repeated idempotent request, whose earlier answer is replayed if the file matches).
   */
  readonly purpose: 'forward' | 'fingerprint';
}

/** What an intake received: the file's bytes as they arrive, and what the client said it is. */
export interface IncomingFile {
  readonly stream: Readable;
  readonly declaredType: string | undefined;
  readonly declaredName: string | undefined;
  /**
   * The file is already stored whole by the intake (a finished resumable upload): `reopen` reads it
   * again from the first byte. The core then checks `stream` without spooling a copy and sends fresh
   * reads of the stored file (stored-upload.ts).
   */
  readonly reopen?: () => Readable;
}

/**
 * The transport-free core of one upload: read the file's first bytes, decide its type, enforce that
 * type's size limit while reading, and hand the bytes to the buffered or streaming forwarder. Any
 * intake (a multipart form, a resumable upload) calls this with what it received.
 *
 * Streaming mode streams only what the upstream can take without knowing the size first (v3's
 * multipart cap); a file that may be larger is spooled, because a direct upload needs its exact
 * size and checksum before the first byte goes out. A request that fits the streaming buffer
 * (UPSTREAM_BUFFER_BYTES, by its Content-Length) is held whole in memory and sent like buffered mode's.
 */
export async function prepareUpload(core: UploadCore, file: IncomingFile, intent: UploadIntent): Promise<PreparedUpload> {
  const { head, stream } = await readHead(file.stream, DETECTION_BYTES);
  if (head.length === 0) throw new ApiError('EMPTY_FILE');
  const mediaType = resolveMediaType(file.declaredType, await detectMediaType(head));
  const kind = kindOf(mediaType);
  const maxBytes = core.maxBytes[kind];
  const mayNeedDirectUpload = (intent.sizeAtMost ?? Number.POSITIVE_INFINITY) > core.upstream.unsizedLimitBytes;
  // A request no larger than the buffer streaming would fill anyway is held whole and sent in one
  // write with its Content-Length, as buffered mode sends it: nothing to gain from streaming it, and
  // a chunked body with a held end cost a small upload more CPU than the whole file (bench/changes.md).
  const fitsOneBuffer = intent.sizeAtMost !== undefined && intent.sizeAtMost <= UPSTREAM_BUFFER_BYTES;
  const streaming = core.mode === 'streaming' && !mayNeedDirectUpload && !fitsOneBuffer && intent.purpose === 'forward';
  const limiter = new StreamLimiter(maxBytes, () => new ApiError('FILE_TOO_LARGE', tooLargeMessage(kind, maxBytes)), {
    // Streaming: the limiter is the upstream body, and its buffer is what the socket drains from.
    ...(streaming ? { readableHighWaterMark: UPSTREAM_BUFFER_BYTES } : {}),
    sha256: intent.checksum || intent.purpose === 'fingerprint' || mayNeedDirectUpload || file.reopen !== undefined,
    // The first bytes said which type; the whole file must be built like one (no polyglots).
    walker: structureWalkerFor(mediaType),
    onMalformed: (reason) => new ApiError('CONTENT_MISMATCH', `The file is not a well-formed ${mediaType} file.`, { cause: new Error(reason) }),
  });
  if (intent.purpose === 'fingerprint') return fingerprint(stream, limiter, mediaType);
  const outgoing = { mediaType, filename: safeFileName(file.declaredName, mediaType), upstreamKey: intent.upstreamKey };
  if (file.reopen !== undefined) return checkStoredUpload(stream, limiter, outgoing, file.reopen, core.upstream);
  return streaming
    ? streamUpload(stream, limiter, outgoing, core.upstream)
    : spoolUpload(stream, limiter, outgoing, core.spoolDirectory, core.upstream);
}

/** Reads the whole file through the checks and the hash, keeping none of it. */
async function fingerprint(stream: Readable, limiter: StreamLimiter, mediaType: AllowedMediaType): Promise<PreparedUpload> {
  await readThrough(stream, limiter);
  return {
    mediaType,
    size: limiter.bytes,
    sha256: limiter.sha256,
    send: () => Promise.reject(new Error('a fingerprinted upload is never sent')),
    dispose: () => Promise.resolve(),
  };
}

/** Checks an UploadCore once, at start, so a wiring mistake fails loudly instead of on the first upload. */
export function assertUploadCore(core: UploadCore): void {
  if (core.mode !== 'buffered' && core.mode !== 'streaming') {
    throw new TypeError(`upload core: mode must be "buffered" or "streaming", not ${String(core.mode)}`);
  }
  for (const [kind, bytes] of Object.entries(core.maxBytes)) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new TypeError(`upload core: maxBytes.${kind} must be a positive whole number`);
  }
  if (!core.spoolDirectory) throw new TypeError('upload core: spoolDirectory is required');
  if (typeof core.upstream?.send !== 'function') throw new TypeError('upload core: an upstream is required');
}
