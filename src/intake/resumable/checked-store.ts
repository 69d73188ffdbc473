import type { IncomingMessage } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import { DataStore, type Upload } from '@tus/utils';
import { isApiError } from '../../errors';
import { fileTooLarge } from '../../upload/admission';
import { DETECTION_BYTES, detectMediaType } from '../../upload/detect-media-type';
import { kindOf, type MediaLimits } from '../../upload/media-types';
import { resolveMediaType } from '../../upload/resolve-media-type';
import type { UploadReservations } from '../../state/upload-reservations';
import type { BackingStore } from './backing-store';
import { declaredFileOf } from './declared-file';

/** Refusals found after a failed write, kept for checkStored; a bound so ids never collected cannot pile up. */
const KEPT_REFUSALS = 1000;

/**
 * The tus DataStore the intake runs on: whichever BackingStore holds the bytes, plus two duties of the
 * resumable intake that belong where bytes are stored, written once for every store:
 * - the first-bytes check: as soon as an upload holds its first 4100 bytes (or all of a smaller
 *   file), they are sniffed against the declared type and the type's size limit, and a refused
 *   upload is removed at once, within the write that brought them, under the upload's lock. The bytes
 *   are taken as they stream through write() (an S3 store cannot read back bytes it already sent as a
 *   multipart part), after the bytes stored before this write, read back from the store;
 * - the budget: an upload's reservation (reserved at creation) is dropped whenever the upload leaves
 *   the store, however it leaves (forwarded, refused, terminated, expired).
 * Deferred lengths are not offered (HeyGen needs the size before the first byte goes to it), so the
 * creation-defer-length extension is not advertised.
 */
export class CheckedStore extends DataStore {
  readonly backing: BackingStore;
  readonly #maxBytes: MediaLimits;
  readonly #reservations: UploadReservations;
  readonly #expiryMs: number;
  readonly #refusedAfterFailure = new Map<string, unknown>();
  /** Writes under way that may still find a refusal (those that start within the first bytes). */
  readonly #writing = new Map<string, Promise<void>>();

  constructor(options: { backing: BackingStore; maxBytes: MediaLimits; reservations: UploadReservations; expiryMs: number }) {
    super();
    this.backing = options.backing;
    this.#maxBytes = options.maxBytes;
    this.#reservations = options.reservations;
    this.#expiryMs = options.expiryMs;
    this.extensions = this.backing.tus.extensions.filter((extension) => extension !== 'creation-defer-length');
  }

  override async create(upload: Upload): Promise<Upload> {
    try {
      return await this.backing.tus.create(upload);
    } catch (error) {
      await this.#reservations.release(upload.id).catch(() => undefined);
      throw error;
    }
  }

  override async remove(id: string): Promise<void> {
    try {
      await this.backing.tus.remove(id);
    } finally {
      await this.#reservations.release(id);
    }
  }

  override getUpload(id: string): Promise<Upload> {
    return this.backing.tus.getUpload(id);
  }

  read(id: string): Promise<Readable> {
    return Promise.resolve(this.backing.open(id));
  }

  override declareUploadLength(id: string, length: number): Promise<void> {
    return this.backing.tus.declareUploadLength(id, length);
  }

  override getExpiration(): number {
    return this.#expiryMs;
  }

  /**
   * Removes unfinished uploads older than the expiry through remove(), so their reservations go with
   * them (the stores' own sweeps delete objects directly), then lets the store sweep what only it
   * knows of (an S3 multipart upload whose info object was never written). Returns how many uploads went.
   */
  override async deleteExpired(): Promise<number> {
    if (this.#expiryMs <= 0) return 0;
    let removed = 0;
    for (const id of await this.backing.list()) {
      const info = await this.backing.info(id);
      if (info?.creation_date === undefined || Date.now() <= new Date(info.creation_date).getTime() + this.#expiryMs) continue;
      const upload = await this.backing.tus.getUpload(id).catch(() => undefined);
      // A finished upload waits for its forward to be retried; only the unfinished expire.
      if (upload === undefined || upload.offset === upload.size) continue;
      await this.remove(id);
      removed += 1;
    }
    await this.backing.tus.deleteExpired();
    return removed;
  }

  override write(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    if (offset >= DETECTION_BYTES) return this.backing.tus.write(readable, id, offset);
    const writing = this.#checkedWrite(readable, id, offset);
    const settled = writing.then(
      () => undefined,
      () => undefined,
    );
    this.#writing.set(id, settled);
    void settled.then(() => {
      if (this.#writing.get(id) === settled) this.#writing.delete(id);
    });
    return writing;
  }

  async #checkedWrite(readable: IncomingMessage | Readable, id: string, offset: number): Promise<number> {
    const before = offset > 0 ? await this.backing.readHead(id, offset) : Buffer.alloc(0);
    const captured = captureHead(readable, DETECTION_BYTES - offset);
    let written: number;
    try {
      written = await this.backing.tus.write(captured.stream, id, offset);
    } catch (error) {
      // The bytes this failed write did store still meet the check; tus may answer from its own error
      // (its pipeline's), so a refusal found here waits for checkStored too.
      const stored = (await this.backing.tus.getUpload(id).catch(() => undefined))?.offset ?? 0;
      await this.#checkHead(id, stored, () => Buffer.concat([before, captured.head()]).subarray(0, stored)).catch((refusal: unknown) => this.#keepRefusal(id, refusal));
      throw error;
    }
    await this.#checkHead(id, written, () => Buffer.concat([before, captured.head()]));
    return written;
  }

  /**
   * The first-bytes check of whatever an upload holds now, for a write that failed after storing
   * bytes (tus answers such a PATCH from its own error): throws the refusal, with the upload removed,
   * or returns when there is nothing to refuse.
   */
  async checkStored(id: string): Promise<void> {
    // tus may answer before the store's write has given up; its check runs when it does.
    await this.#writing.get(id);
    if (this.#refusedAfterFailure.has(id)) {
      const refusal = this.#refusedAfterFailure.get(id);
      this.#refusedAfterFailure.delete(id);
      throw refusal;
    }
    const stored = await this.backing.tus.getUpload(id).then(
      (upload) => upload.offset,
      () => undefined,
    );
    if (stored !== undefined) await this.#checkHead(id, stored, () => this.backing.readHead(id, Math.min(stored, DETECTION_BYTES)));
  }

  #keepRefusal(id: string, refusal: unknown): void {
    if (!isApiError(refusal)) return;
    if (this.#refusedAfterFailure.size >= KEPT_REFUSALS) this.#refusedAfterFailure.delete(this.#refusedAfterFailure.keys().next().value as string);
    this.#refusedAfterFailure.set(id, refusal);
  }

  /** Sniffs the first bytes once `stored` covers them; a refusal removes the upload and is thrown. */
  async #checkHead(id: string, stored: number, head: () => Buffer | Promise<Buffer>): Promise<void> {
    const info = await this.backing.info(id);
    if (info?.size === undefined) return;
    const needed = Math.min(DETECTION_BYTES, info.size);
    if (stored < needed) return;
    try {
      const bytes = (await head()).subarray(0, needed);
      // Fewer bytes than stored means the store could not read them back (an S3 part): no judgement on a part of them.
      if (bytes.length < needed) return;
      const kind = kindOf(resolveMediaType(declaredFileOf(info.metadata).declaredType, await detectMediaType(bytes)));
      if (info.size > this.#maxBytes[kind]) throw fileTooLarge(this.#maxBytes, kind);
    } catch (error) {
      await this.remove(id).catch(() => undefined);
      throw error;
    }
  }
}

/**
 * The same bytes as `source`, with up to `limit` of the first kept aside as they pass. Errors of the
 * source reach the store through the copy, as they would have directly.
 */
function captureHead(source: Readable, limit: number): { stream: Readable; head: () => Buffer } {
  const chunks: Buffer[] = [];
  let kept = 0;
  const stream = new PassThrough();
  source.on('data', (chunk: Buffer) => {
    if (kept < limit) {
      const slice = chunk.subarray(0, limit - kept);
      chunks.push(Buffer.from(slice));
      kept += slice.length;
    }
  });
  source.once('error', (error) => stream.destroy(error));
  source.pipe(stream);
  return { stream, head: () => Buffer.concat(chunks) };
}
