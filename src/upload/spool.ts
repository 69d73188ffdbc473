import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';

/** Files up to this size stay in memory; larger ones go to a temp file (nginx's client_body_buffer_size). */
export const SPOOL_MEMORY_BYTES = 1024 * 1024;

/** Prefix of every spool file, so operators and tests can tell them apart in the temp directory. */
export const SPOOL_FILE_PREFIX = 'heygen-upload-';

/**
 * The buffered mode's store: a Writable that keeps a small file in memory and moves to a temp file once
 * it outgrows SPOOL_MEMORY_BYTES. After it finishes, `open()` gives a fresh Readable of exactly what
 * was written (once per attempt, so a retry can resend), and `dispose()` removes the temp file.
 */
export class Spool extends Writable {
  readonly #directory: string;
  #memory: Buffer[] = [];
  #size = 0;
  #file: FileHandle | undefined;
  #path: string | undefined;
  #disposed = false;
  #disposing: Promise<void> | undefined;

  constructor(directory: string) {
    // autoDestroy off: finishing must keep the bytes for sending; destroy() is for failures only.
    super({ highWaterMark: 256 * 1024, autoDestroy: false });
    this.#directory = directory;
  }

  get size(): number {
    return this.#size;
  }

  /** The temp file's path, or undefined while the bytes are all in memory. */
  get path(): string | undefined {
    return this.#path;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.map(({ chunk }) => chunk);
    const length = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
    this.#size += length;
    if (this.#file === undefined && this.#size <= SPOOL_MEMORY_BYTES) {
      this.#memory.push(...buffers);
      callback();
      return;
    }
    this.#writeToFile(buffers).then(() => callback(), callback);
  }

  async #writeToFile(buffers: Buffer[]): Promise<void> {
    if (this.#file === undefined) {
      const path = join(this.#directory, `${SPOOL_FILE_PREFIX}${randomBytes(12).toString('hex')}`);
      this.#path = path;
      // 'wx': never reuse or follow an existing path; 0o600: the upload is nobody else's to read.
      const file = await open(path, 'wx', 0o600);
      if (this.#disposed) {
        // dispose() ran while the file was being created and could not see it: remove it here.
        await file.close();
        await rm(path, { force: true });
        throw new Error('The spool was disposed while it was being written');
      }
      this.#file = file;
      buffers = [...this.#memory, ...buffers];
      this.#memory = [];
    }
    await this.#file.writev(buffers);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#closeFile().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.dispose().then(
      () => callback(error),
      () => callback(error),
    );
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    await file?.close();
  }

  /**
   * The spooled bytes from the first, for one send attempt: a Buffer when they are in memory (sent in
   * one write), else a fresh stream of the temp file. Call after the spool has finished.
   */
  body(): Buffer | Readable {
    if (this.#path !== undefined) return createReadStream(this.#path, { highWaterMark: 256 * 1024 });
    return this.#memory.length === 1 ? this.#memory[0]! : Buffer.concat(this.#memory, this.#size);
  }

  /**
   * Frees the memory and removes the temp file; safe to call more than once and on every path. Every
   * call resolves only once the file is gone (a second caller must not see "done" while the first
   * is still removing it).
   */
  dispose(): Promise<void> {
    this.#disposing ??= this.#removeEverything();
    return this.#disposing;
  }

  async #removeEverything(): Promise<void> {
    this.#disposed = true;
    this.#memory = [];
    const path = this.#path;
    this.#path = undefined;
    await this.#closeFile().catch(() => undefined);
    if (path !== undefined) await rm(path, { force: true });
  }
}
