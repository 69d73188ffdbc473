import { createHash } from 'node:crypto';
import type { ChunkInspector } from './chunk-inspector';

/**
 * The SHA-256 of what passes, computed on the way so the checksum costs no second pass over the file:
 * a direct upload announces it, and an idempotent replay compares it.
 */
export class RunningSha256 implements ChunkInspector {
  readonly #hash = createHash('sha256');
  #hex: string | undefined;

  /** Hex SHA-256 of every byte that passed; only once the file has ended. */
  get hex(): string {
    if (this.#hex === undefined) throw new Error('RunningSha256: the file has not ended yet');
    return this.#hex;
  }

  inspect(chunk: Buffer): undefined {
    this.#hash.update(chunk);
    return undefined;
  }

  finish(): undefined {
    this.#hex = this.#hash.digest('hex');
    return undefined;
  }
}
