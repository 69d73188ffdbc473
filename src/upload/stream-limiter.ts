import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through until a budget is spent, then fails with the error `onBreach` builds
 * (tus-node-server's StreamLimiter). It counts what passed, so callers learn the size for free.
 */
export class StreamLimiter extends Transform {
  #bytes = 0;
  readonly #maxBytes: number;
  readonly #onBreach: () => Error;
  #holdingEnd = false;
  #onWritten: (() => void) | undefined;
  #heldFlush: TransformCallback | undefined;

  constructor(maxBytes: number, onBreach: () => Error, options: { readableHighWaterMark?: number } = {}) {
    super(options);
    this.#maxBytes = maxBytes;
    this.#onBreach = onBreach;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Streaming mode's "every byte sent, but no end of body yet": once all input has been written,
   * `onWritten` runs and the readable side stays open until `releaseEnd()`. This replaces a
   * PassThrough piped with `end: false`, one hop and one 256 KiB buffer less per upload.
   */
  holdEnd(onWritten: () => void): void {
    this.#holdingEnd = true;
    this.#onWritten = onWritten;
  }

  /** Ends the readable side (at once, or as soon as all input has been written). */
  releaseEnd(): void {
    this.#holdingEnd = false;
    const flush = this.#heldFlush;
    this.#heldFlush = undefined;
    flush?.();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      callback(this.#onBreach());
      return;
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.#holdingEnd) {
      callback();
      return;
    }
    this.#heldFlush = callback;
    this.#onWritten?.();
  }
}
