import type { ChunkInspector } from './chunk-inspector';

/**
 * Counts the bytes that pass and refuses the file once they exceed `maxBytes`, with the error
 * `onBreach` builds. The count is the file's exact size once it has ended, so measuring costs nothing extra.
 */
export class ByteBudget implements ChunkInspector {
  #bytes = 0;
  readonly #maxBytes: number;
  readonly #onBreach: () => Error;

  constructor(maxBytes: number, onBreach: () => Error) {
    this.#maxBytes = maxBytes;
    this.#onBreach = onBreach;
  }

  /** How many bytes have passed so far. */
  get bytes(): number {
    return this.#bytes;
  }

  inspect(chunk: Buffer): Error | undefined {
    this.#bytes += chunk.length;
    return this.#bytes > this.#maxBytes ? this.#onBreach() : undefined;
  }

  finish(): undefined {
    return undefined;
  }
}
