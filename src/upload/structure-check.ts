import type { ChunkInspector } from './chunk-inspector';
import type { StructureWalker } from './structure';

/**
 * Follows the file's container structure as it passes (the first bytes said which type it is; the
 * whole file must be built like one, so a polyglot is refused). A broken structure refuses the file
 * with the error `onMalformed` builds from the walker's reason.
 */
export class StructureCheck implements ChunkInspector {
  readonly #walker: StructureWalker;
  readonly #onMalformed: (reason: string) => Error;

  constructor(walker: StructureWalker, onMalformed: (reason: string) => Error) {
    this.#walker = walker;
    this.#onMalformed = onMalformed;
  }

  inspect(chunk: Buffer): Error | undefined {
    const reason = this.#walker.push(chunk);
    return reason === undefined ? undefined : this.#onMalformed(reason);
  }

  finish(): Error | undefined {
    const reason = this.#walker.end();
    return reason === undefined ? undefined : this.#onMalformed(reason);
  }
}
