import { randomBytes } from 'node:crypto';
import { close, createReadStream, open, rm, writev } from 'node:fs';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { MIB } from '../config';

/** Files up to this size are spooled in memory; larger ones go to a temp file (nginx's client_body_buffer_size). */
export const SPOOL_MEMORY_BYTES = 1 * MIB;

/** The spool's buffers, and the reads of a stored file. */
export const SPOOL_BUFFER_BYTES = 256 * 1024;

/** Prefix of every spool file, so an operator can tell them apart in the temp directory. */
const SPOOL_FILE_PREFIX = 'heygen-upload-';

/**
 * The buffered mode's store: a Writable that keeps a small file in memory and moves to a temp file once
 * it outgrows SPOOL_MEMORY_BYTES. After it finishes, `body()` gives a fresh Readable of exactly what
 * was written (once per attempt, so a retry can resend), and `dispose()` removes the temp file.
 */
export class Spool extends Writable {
  readonly #directory: string;
  #memory: Buffer[] = [];
  #size = 0;
  /** The temp file's descriptor while it is open for writing. */
  #fd: number | undefined;
  #path: string | undefined;
  #disposed = false;
  #disposing: Promise<void> | undefined;
  #writing = false;
  #closeWhenWritten: (() => void) | undefined;

  constructor(directory: string) {
    // autoDestroy off: finishing must keep the bytes for sending; destroy() is for failures only.
    super({ highWaterMark: SPOOL_BUFFER_BYTES, autoDestroy: false });
    this.#directory = directory;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this._writev([{ chunk }], callback);
  }

  // Callback fs rather than FileHandle promises: one write per batch of chunks, no promise or
  // FileHandle bookkeeping per write (the same calls fs.WriteStream makes, minus its own buffering).
  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    const buffers = chunks.length === 1 ? [chunks[0]!.chunk] : chunks.map(({ chunk }) => chunk);
    let length = 0;
    for (const buffer of buffers) length += buffer.length;
    this.#size += length;
    if (this.#fd === undefined && this.#size <= SPOOL_MEMORY_BYTES) {
      for (const buffer of buffers) this.#memory.push(buffer);
      callback();
      return;
    }
    if (this.#fd !== undefined) {
      this.#write(this.#fd, buffers, callback);
      return;
    }
    const path = join(this.#directory, `${SPOOL_FILE_PREFIX}${randomBytes(12).toString('hex')}`);
    this.#path = path;
    // 'wx': never reuse or follow an existing path; 0o600: the upload is nobody else's to read.
    open(path, 'wx', 0o600, (error, fd) => {
      if (error) {
        callback(error);
        return;
      }
      if (this.#disposed) {
        // dispose() ran while the file was being created and could not see it: remove it here.
        close(fd, () => rm(path, { force: true }, () => callback(new Error('The spool was disposed while it was being written'))));
        return;
      }
      this.#fd = fd;
      const pending = this.#memory;
      this.#memory = [];
      for (const buffer of buffers) pending.push(buffer);
      this.#write(fd, pending, callback);
    });
  }

  /**
   * One write at a time (Writable never overlaps _writev calls), tracked so that closing waits for
   * it: a descriptor closed under a pending write could be reused by another upload's spool before
   * the write runs, and the bytes would land in the wrong file.
   */
  #write(fd: number, buffers: Buffer[], callback: (error?: Error | null) => void): void {
    this.#writing = true;
    this.#writeAll(fd, buffers, (error) => {
      this.#writing = false;
      const closeNow = this.#closeWhenWritten;
      this.#closeWhenWritten = undefined;
      closeNow?.();
      callback(error);
    });
  }

  /** writev may write less than asked (rare for files, but allowed): continue from where it stopped. */
  #writeAll(fd: number, buffers: Buffer[], callback: (error?: Error | null) => void): void {
    writev(fd, buffers, (error, written) => {
      if (error) {
        callback(error);
        return;
      }
      let rest = written;
      let index = 0;
      while (index < buffers.length && rest >= buffers[index]!.length) {
        rest -= buffers[index]!.length;
        index += 1;
      }
      if (index === buffers.length) {
        callback();
        return;
      }
      const remaining = buffers.slice(index);
      remaining[0] = remaining[0]!.subarray(rest);
      this.#writeAll(fd, remaining, callback);
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#closeFile(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.dispose().then(
      () => callback(error),
      () => callback(error),
    );
  }

  #closeFile(callback: (error?: Error | null) => void): void {
    const fd = this.#fd;
    this.#fd = undefined;
    if (fd === undefined) {
      callback();
      return;
    }
    const closeFd = (): void => close(fd, (error) => callback(error));
    if (this.#writing) this.#closeWhenWritten = closeFd;
    else closeFd();
  }

  /**
   * The spooled bytes from the first, for one send attempt: a Buffer when they are in memory (sent in
   * one write), else a fresh stream of the temp file. Call after the spool has finished.
   */
  body(): Buffer | Readable {
    if (this.#path !== undefined) return createReadStream(this.#path, { highWaterMark: SPOOL_BUFFER_BYTES });
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

  #removeEverything(): Promise<void> {
    this.#disposed = true;
    this.#memory = [];
    const path = this.#path;
    this.#path = undefined;
    return new Promise((resolve, reject) => {
      // A failed close must not keep the file on disk: remove it whatever close said.
      this.#closeFile(() => {
        if (path === undefined) resolve();
        else rm(path, { force: true }, (error) => (error ? reject(error) : resolve()));
      });
    });
  }
}
