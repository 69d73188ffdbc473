import { Transform, type TransformCallback } from 'node:stream';
import type { ChunkInspector } from './chunk-inspector';
import type { HeldEnd } from './held-end';

export interface InspectedStreamOptions {
  /** The readable side's buffer: when this stream is the upstream body, it is what the socket drains from. */
  readonly readableHighWaterMark?: number;
  /** Keep the readable side open after the last byte until the HeldEnd is released (streaming mode). */
  readonly heldEnd?: HeldEnd;
}

/**
 * Passes a file's bytes through unchanged while each inspector, in order, looks at every chunk; the
 * first refusal fails the stream with that inspector's error. One Transform for every job, rather
 * than one per job, so a chunk makes one hop and is buffered once on its way.
 */
export class InspectedStream extends Transform {
  readonly #inspectors: readonly ChunkInspector[];
  readonly #heldEnd: HeldEnd | undefined;

  constructor(inspectors: readonly ChunkInspector[], options: InspectedStreamOptions = {}) {
    super(options.readableHighWaterMark === undefined ? {} : { readableHighWaterMark: options.readableHighWaterMark });
    this.#inspectors = inspectors;
    this.#heldEnd = options.heldEnd;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const inspector of this.#inspectors) {
      const refusal = inspector.inspect(chunk);
      if (refusal !== undefined) {
        callback(refusal);
        return;
      }
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    for (const inspector of this.#inspectors) {
      const refusal = inspector.finish();
      if (refusal !== undefined) {
        callback(refusal);
        return;
      }
    }
    if (this.#heldEnd === undefined) callback();
    else this.#heldEnd.endWhenReleased(() => callback());
  }
}
