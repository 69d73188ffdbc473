import type { Readable } from 'node:stream';
import type { UpstreamMode } from '../config';
import { ApiError } from '../errors';
import type { Upstream } from '../heygen/upstream';
import { spoolUpload } from './buffered-upload';
import { detectMediaType } from './detect-media-type';
import { DETECTION_BYTES, type MediaLimits, tooLargeMessage, UPSTREAM_BUFFER_BYTES } from './limits';
import { kindOf } from './media-types';
import type { PreparedUpload } from './prepared-upload';
import { readHead } from './read-head';
import { resolveMediaType } from './resolve-media-type';
import { StreamLimiter } from './stream-limiter';
import { streamUpload } from './streaming-upload';

export interface UploadCore {
  readonly mode: UpstreamMode;
  readonly maxBytes: MediaLimits;
  readonly spoolDirectory: string;
  readonly upstream: Upstream;
}

/** What an intake received: the file's bytes as they arrive, and what the client said it is. */
export interface IncomingFile {
  readonly stream: Readable;
  readonly declaredType: string | undefined;
}

/**
 * The transport-free core of one upload: read the file's first bytes, decide its type, enforce that
 * type's size limit while reading, and hand the bytes to the buffered or streaming forwarder. Any
 * intake (a multipart form, a resumable upload) calls this with what it received.
 */
export async function prepareUpload(core: UploadCore, file: IncomingFile): Promise<PreparedUpload> {
  const { head, stream } = await readHead(file.stream, DETECTION_BYTES);
  if (head.length === 0) throw new ApiError('EMPTY_FILE');
  const mediaType = resolveMediaType(file.declaredType, await detectMediaType(head));
  const kind = kindOf(mediaType);
  const maxBytes = core.maxBytes[kind];
  const limiter = new StreamLimiter(
    maxBytes,
    () => new ApiError('FILE_TOO_LARGE', tooLargeMessage(kind, maxBytes)),
    // Streaming: the limiter is the upstream body, and its buffer is what the socket drains from.
    core.mode === 'streaming' ? { readableHighWaterMark: UPSTREAM_BUFFER_BYTES } : {},
  );
  return core.mode === 'streaming'
    ? streamUpload(stream, limiter, mediaType, core.upstream)
    : spoolUpload(stream, limiter, mediaType, core.spoolDirectory, core.upstream);
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
