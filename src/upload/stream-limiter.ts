import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through until a budget is spent, then fails with the error `onBreach` builds
 * (tus-node-server's StreamLimiter). It counts what passed, so callers learn the size for free.
 */
export class StreamLimiter extends Transform {
  #bytes = 0;
  readonly #maxBytes: number;
  readonly #onBreach: () => Error;

  constructor(maxBytes: number, onBreach: () => Error) {
    super();
    this.#maxBytes = maxBytes;
    this.#onBreach = onBreach;
  }

  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#maxBytes) {
      callback(this.#onBreach());
      return;
    }
    callback(null, chunk);
  }
}
