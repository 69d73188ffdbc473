import { open } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import { ApiError } from '../../errors';
import { detectMediaType } from '../../upload/detect-media-type';
import { DETECTION_BYTES, type MediaLimits, tooLargeMessage } from '../../upload/limits';
import { kindOf } from '../../upload/media-types';
import { resolveMediaType } from '../../upload/resolve-media-type';
import { declaredFileOf } from './declared-file';

/** What the tus intake needs of its store besides what @tus/server uses. */
export interface ResumableStore {
  readonly directory: string;
  /** Path of an upload's bytes. */
  pathOf(id: string): string;
  /** Sum of the declared lengths of the uploads on disk (in progress or waiting to be forwarded). */
  bytesReserved(): Promise<number>;
}

/**
 * @tus/file-store, plus the project's first-bytes check: as soon as an upload holds its first 4100
 * bytes (or all of a smaller file), they are sniffed against the declared type and the type's size
 * limit, and a refused upload is removed at once (its bytes and its info), within the write that
 * brought them, under the upload's lock. Deferred lengths are not offered (HeyGen needs the size
 * before the first byte goes to it), so the creation-defer-length extension is not advertised.
 */
export class CheckedFileStore extends FileStore implements ResumableStore {
  readonly #maxBytes: MediaLimits;

  constructor(options: { directory: string; expirationPeriodInMilliseconds: number; maxBytes: MediaLimits }) {
    super({ directory: options.directory, expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds });
    this.#maxBytes = options.maxBytes;
    this.extensions = this.extensions.filter((extension) => extension !== 'creation-defer-length');
  }

  pathOf(id: string): string {
    return join(this.directory, id);
  }

  override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    const written = await super.write(readable, id, offset);
    if (offset < DETECTION_BYTES) await this.#checkHead(id, written);
    return written;
  }

  async bytesReserved(): Promise<number> {
    let total = 0;
    for (const id of await this.configstore.list?.() ?? []) {
      const info = await this.configstore.get(id);
      total += info?.size ?? 0;
    }
    return total;
  }

  async #checkHead(id: string, offset: number): Promise<void> {
    const info = await this.configstore.get(id);
    if (info?.size === undefined) return;
    const needed = Math.min(DETECTION_BYTES, info.size);
    if (offset < needed) return;
    try {
      const head = await readFirstBytes(this.pathOf(id), needed);
      const mediaType = resolveMediaType(declaredFileOf(info.metadata).declaredType, await detectMediaType(head));
      const kind = kindOf(mediaType);
      if (info.size > this.#maxBytes[kind]) throw new ApiError('FILE_TOO_LARGE', tooLargeMessage(kind, this.#maxBytes[kind]));
    } catch (error) {
      await this.remove(id).catch(() => undefined);
      throw error;
    }
  }
}

async function readFirstBytes(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
