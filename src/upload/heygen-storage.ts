import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { MediaKind, UpstreamMode } from '../config';
import { ApiError } from '../errors';
import type { HeygenClient } from '../heygen/upload-client';
import { spoolUpload } from './buffered-upload';
import { DETECTION_BYTES, detectMediaType } from './detect-media-type';
import { kindOf } from './media-types';
import type { PreparedUpload } from './prepared-upload';
import { readHead } from './read-head';
import { resolveMediaType } from './resolve-media-type';
import { StreamLimiter } from './stream-limiter';
import { streamUpload } from './streaming-upload';

/** What the streaming upstream body may hold ahead of HeyGen's socket. */
const UPSTREAM_BUFFER_BYTES = 256 * 1024;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-namespace
    namespace Multer {
      interface File {
        /** Set by HeygenStorage: the checked file, ready to send. */
        prepared?: PreparedUpload;
      }
    }
  }
}

export interface HeygenStorageOptions {
  readonly mode: UpstreamMode;
  readonly maxBytes: Readonly<Record<MediaKind, number>>;
  readonly spoolDirectory: string;
  readonly heygen: HeygenClient;
  /** Told at once when a file is refused, so the answer need not wait for the rest of the body. */
  readonly onRefusal?: (req: Request, error: unknown) => void;
}

/**
 * multer's StorageEngine with HeyGen as the destination (the multer-s3 pattern): check the options
 * once, and for each file read its first bytes, decide its type, enforce that type's size limit while
 * reading, and hand the bytes to the buffered or streaming forwarder.
 */
export class HeygenStorage implements StorageEngine {
  readonly #options: HeygenStorageOptions;

  constructor(options: HeygenStorageOptions) {
    if (options.mode !== 'buffered' && options.mode !== 'streaming') {
      throw new TypeError(`HeygenStorage: mode must be "buffered" or "streaming", not ${String(options.mode)}`);
    }
    for (const [kind, bytes] of Object.entries(options.maxBytes)) {
      if (!Number.isSafeInteger(bytes) || bytes <= 0) {
        throw new TypeError(`HeygenStorage: maxBytes.${kind} must be a positive whole number`);
      }
    }
    if (!options.spoolDirectory) throw new TypeError('HeygenStorage: spoolDirectory is required');
    if (typeof options.heygen?.upload !== 'function') throw new TypeError('HeygenStorage: heygen client is required');
    this.#options = options;
  }

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    this.#prepare(file).then(
      (prepared) => callback(null, { size: prepared.size, prepared }),
      (error: unknown) => {
        this.#options.onRefusal?.(req, error);
        callback(error);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    (file.prepared?.dispose() ?? Promise.resolve()).then(
      () => callback(null),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }

  async #prepare(file: Express.Multer.File): Promise<PreparedUpload> {
    const { head, stream } = await readHead(file.stream, DETECTION_BYTES);
    if (head.length === 0) throw new ApiError('EMPTY_FILE');
    const mediaType = resolveMediaType(file.mimetype, await detectMediaType(head));
    const kind = kindOf(mediaType);
    const maxBytes = this.#options.maxBytes[kind];
    const limiter = new StreamLimiter(
      maxBytes,
      () => new ApiError('FILE_TOO_LARGE', `${capitalise(kind)} files may be at most ${describeBytes(maxBytes)}.`),
      // Streaming: the limiter is the upstream body, and its buffer is what the socket drains from.
      this.#options.mode === 'streaming' ? { readableHighWaterMark: UPSTREAM_BUFFER_BYTES } : {},
    );
    return this.#options.mode === 'streaming'
      ? streamUpload(stream, limiter, mediaType, this.#options.heygen)
      : spoolUpload(stream, limiter, mediaType, this.#options.spoolDirectory, this.#options.heygen);
  }
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** "32 MiB" for whole mebibytes, else the exact byte count. */
export function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}
