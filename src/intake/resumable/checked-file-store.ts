import { open, stat } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { fileTooLarge } from '../../upload/admission';
import { detectMediaType } from '../../upload/detect-media-type';
import { DETECTION_BYTES } from '../../upload/detect-media-type';
import { type MediaLimits } from '../../upload/media-types';
import { kindOf } from '../../upload/media-types';
import { resolveMediaType } from '../../upload/resolve-media-type';
import type { UploadReservations } from '../../state/upload-reservations';
import { declaredFileOf } from './declared-file';

/**
 * @tus/file-store, plus two duties of the resumable intake that belong where bytes are stored:
 * - the first-bytes check: as soon as an upload holds its first 4100 bytes (or all of a smaller
 *   file), they are sniffed against the declared type and the type's size limit, and a refused
 *   upload is removed at once, within the write that brought them, under the upload's lock (or,
 *   for a write that failed after storing them, by checkStored once tus has answered);
 * - the disk budget: an upload's reservation (reserved at creation) is dropped whenever the upload
 *   leaves the store, however it leaves (forwarded, refused, terminated, expired).
 * Deferred lengths are not offered (HeyGen needs the size before the first byte goes to it), so the
 * creation-defer-length extension is not advertised.
 */
export class CheckedFileStore extends FileStore {
  readonly #maxBytes: MediaLimits;
  readonly #reservations: UploadReservations;

  constructor(options: { directory: string; expirationPeriodInMilliseconds: number; maxBytes: MediaLimits; reservations: UploadReservations }) {
    super({ directory: options.directory, expirationPeriodInMilliseconds: options.expirationPeriodInMilliseconds });
    this.#maxBytes = options.maxBytes;
    this.#reservations = options.reservations;
    this.extensions = this.extensions.filter((extension) => extension !== 'creation-defer-length');
  }

  pathOf(id: string): string {
    return join(this.directory, id);
  }

  override async create(upload: Upload): Promise<Upload> {
    try {
      return await super.create(upload);
    } catch (error) {
      await this.#reservations.release(upload.id).catch(() => undefined);
      throw error;
    }
  }

  override async remove(id: string): Promise<void> {
    try {
      await super.remove(id);
    } finally {
      await this.#reservations.release(id);
    }
  }

  override async write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    const written = await super.write(readable, id, offset);
    if (offset < DETECTION_BYTES) await this.#checkHead(id, written);
    return written;
  }

  /**
   * The first-bytes check of whatever an upload holds now, for a write that failed after storing
   * bytes (tus answers such a PATCH from its own error, and the check in write() never ran): throws
   * the refusal, with the upload removed, or returns when there is nothing to refuse.
   */
  async checkStored(id: string): Promise<void> {
    const stored = await stat(this.pathOf(id)).then(
      (info) => info.size,
      () => undefined,
    );
    if (stored !== undefined) await this.#checkHead(id, stored);
  }

  async #checkHead(id: string, offset: number): Promise<void> {
    const info = await this.configstore.get(id);
    if (info?.size === undefined) return;
    const needed = Math.min(DETECTION_BYTES, info.size);
    if (offset < needed) return;
    try {
      const head = await readFirstBytes(this.pathOf(id), needed);
      const kind = kindOf(resolveMediaType(declaredFileOf(info.metadata).declaredType, await detectMediaType(head)));
      if (info.size > this.#maxBytes[kind]) throw fileTooLarge(this.#maxBytes, kind);
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
