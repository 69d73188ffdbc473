import type { Readable } from 'node:stream';
import type { UpstreamMode } from '../config';
import { ApiError } from '../errors';
import type { Upstream } from '../heygen/upstream';
import { detectMediaType } from './detect-media-type';
import { type FileChecks, fileChecksFor } from './file-checks';
import { safeFileName } from './file-name';
import { DETECTION_BYTES } from './detect-media-type';
import { type MediaLimits } from './media-types';
import { UPSTREAM_BUFFER_BYTES } from './streaming-upload';
import { type AllowedMediaType, kindOf } from './media-types';
import type { PreparedUpload } from './prepared-upload';
import { readHead } from './read-head';
import { resolveMediaType } from './resolve-media-type';
import { RunningSha256 } from './running-sha256';
import { spoolUpload } from './spooled-upload';
import { checkStoredUpload, readThrough } from './stored-upload';
import { streamUpload } from './streaming-upload';

/** How this replica prepares every upload: its mode, each type's size limit, where to spool, and where to send. */
export interface UploadSettings {
  readonly mode: UpstreamMode;
  readonly maxBytes: MediaLimits;
  readonly spoolDirectory: string;
  readonly upstream: Upstream;
}

/** What the edge knows of an upload before its file arrives. */
export interface UploadIntent {
  /**
   * The Idempotency-Key HeyGen gets on every creating call of this upload, given the file's SHA-256
   * when it is known before sending (every upload sent with its size), else undefined.
   */
  readonly upstreamKey: (fileSha256: string | undefined) => string;
  /** The file is at most this large (the request's Content-Length), when the edge can tell. */
  readonly sizeAtMost?: number;
  /**
   * Hash the file even when it is streamed (an idempotent request records its checksum, so a replay can
   * prove it is the same file). A file sent with its size is always hashed: HeyGen may need the checksum.
   */
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
 * type's size limit and structure while reading, and hand the bytes to the buffered or streaming
 * forwarder. Any intake (a multipart form, a resumable upload) calls this with what it received.
 *
 * Streaming mode streams only what the upstream takes without knowing the size first
 * (`maxStreamedBytes`); a file that may be larger is spooled, because a direct upload needs its exact
 * size and checksum before the first byte goes out. A request that fits the streaming buffer
 * (UPSTREAM_BUFFER_BYTES, by its Content-Length) is held whole in memory and sent like buffered mode's.
 */
export async function prepareUpload(settings: UploadSettings, file: IncomingFile, intent: UploadIntent): Promise<PreparedUpload> {
  const { head, stream } = await readHead(file.stream, DETECTION_BYTES);
  if (head.length === 0) throw new ApiError('EMPTY_FILE');
  const mediaType = resolveMediaType(file.declaredType, await detectMediaType(head));
  const checks = fileChecksFor(mediaType, settings.maxBytes);
  if (intent.purpose === 'fingerprint') return fingerprint(stream, checks, mediaType);
  const outgoing = {
    mediaType,
    mediaKind: kindOf(mediaType),
    filename: safeFileName(file.declaredName, mediaType),
    upstreamKey: intent.upstreamKey,
  };
  if (file.reopen !== undefined) return checkStoredUpload(stream, checks, outgoing, file.reopen, settings.upstream);
  const mayNeedSize = (intent.sizeAtMost ?? Number.POSITIVE_INFINITY) > settings.upstream.maxStreamedBytes;
  // A request no larger than the buffer streaming would fill anyway is held whole and sent in one
  // write with its Content-Length, as buffered mode sends it: streaming it gains nothing, and a
  // chunked body with a held end costs a small upload more CPU than sending it whole.
  const fitsOneBuffer = intent.sizeAtMost !== undefined && intent.sizeAtMost <= UPSTREAM_BUFFER_BYTES;
  return settings.mode === 'streaming' && !mayNeedSize && !fitsOneBuffer
    ? streamUpload(stream, checks, outgoing, settings.upstream, intent.checksum)
    : spoolUpload(stream, checks, outgoing, settings.spoolDirectory, settings.upstream, intent.checksum || mayNeedSize);
}

/** Reads the whole file through the checks and the hash, keeping none of it. */
async function fingerprint(stream: Readable, checks: FileChecks, mediaType: AllowedMediaType): Promise<PreparedUpload> {
  const hash = new RunningSha256();
  await readThrough(stream, [...checks.inspectors, hash]);
  return {
    mediaType,
    size: checks.budget.bytes,
    sha256: hash.hex,
    send: () => Promise.reject(new Error('a fingerprinted upload is never sent')),
    dispose: () => Promise.resolve(),
  };
}
