/**
 * The common machinery of the structure walkers: a loop over each chunk that either passes over
 * payload bytes arithmetically (`skip`), hands bytes to a format's byte scanner (`scanning`), or
 * gathers a few header bytes into a small fixed scratch array (`header`) and calls the format's
 * `onHeader` once it has them. A header split across chunks simply keeps gathering on the next
 * push. Nothing ever holds a reference to a chunk after `push` returns, and nothing is allocated per
 * chunk: the only state is a handful of numbers and the scratch array made once per walker.
 */

/** Follows one file's container structure chunk by chunk, keeping O(1) state (never the bytes). */
export interface StructureWalker {
  /** Inspect the next chunk (do not retain or copy it); returns a reason string when the structure is broken, else undefined. */
  push(chunk: Uint8Array): string | undefined;
  /** The file ended: returns a reason when it ended mid-structure or lacks its required end, else undefined. */
  end(): string | undefined;
}

export abstract class ChunkWalker implements StructureWalker {
  /** Bytes consumed so far: the file offset of the next byte. */
  protected offset = 0;
  /** Payload bytes still to pass over unseen (Infinity: everything up to the end of the file). */
  protected skip = 0;
  /** When set, bytes go to `scan` rather than into `header`. */
  protected scanning = false;
  /** Header bytes gathered so far, and how many `onHeader` wants. */
  protected have = 0;
  protected need: number;
  /** File offset of the first byte of the header being gathered. */
  protected headerOffset = 0;
  protected readonly header: Uint8Array;
  private failure: string | undefined;
  private ended = false;

  protected constructor(scratchBytes: number, firstNeed: number) {
    this.header = new Uint8Array(scratchBytes);
    this.need = firstNeed;
  }

  /** The `need` bytes in `header` are complete: act on them (set skip/need/scanning) or return a reason. */
  protected abstract onHeader(): string | undefined;

  /** The file ended cleanly as far as the loop knows: check what the format requires at its end. */
  protected abstract finish(): string | undefined;

  /**
   * Looks at bytes from `from` while `scanning` is set; returns the index it stopped at (it clears
   * `scanning` or sets `skip`/`need` to hand back to the loop). Report a broken structure with `fail`.
   */
  protected scan(chunk: Uint8Array, from: number): number {
    void chunk;
    this.scanning = false;
    return from;
  }

  /** Records a broken structure found by `scan`; push returns it. */
  protected fail(reason: string): void {
    this.failure ??= reason;
  }

  /** The current header is done: start gathering the next one of `bytes` bytes. */
  protected expect(bytes: number): void {
    this.have = 0;
    this.need = bytes;
  }

  push(chunk: Uint8Array): string | undefined {
    if (this.failure !== undefined) return this.failure;
    if (this.ended) return (this.failure = 'data pushed after the end of the file');
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.skip > 0) {
        const step = Math.min(this.skip, length - i);
        this.skip -= step;
        this.offset += step;
        i += step;
        continue;
      }
      if (this.scanning) {
        const next = this.scan(chunk, i);
        this.offset += next - i;
        i = next;
        if (this.failure !== undefined) return this.failure;
        continue;
      }
      if (this.have === 0) this.headerOffset = this.offset;
      const need = this.need;
      const header = this.header;
      let have = this.have;
      while (have < need && i < length) header[have++] = chunk[i++]!;
      this.offset += have - this.have;
      this.have = have;
      if (have < need) break;
      const reason = this.onHeader();
      if (reason !== undefined) return (this.failure = reason);
    }
    return undefined;
  }

  end(): string | undefined {
    if (this.failure !== undefined) return this.failure;
    this.ended = true;
    const reason = this.finish();
    if (reason !== undefined) this.failure = reason;
    return reason;
  }
}

/** Big-endian unsigned 32-bit read from the scratch header. */
export function u32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) >>> 0) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!;
}

/** Big-endian unsigned 16-bit read from the scratch header. */
export function u16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!;
}

/** Four bytes as text for messages, non-printable bytes as \xNN (never throws on binary). */
export function fourCC(bytes: Uint8Array, at: number): string {
  let text = '';
  for (let k = at; k < at + 4; k += 1) {
    const byte = bytes[k]!;
    text += byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return text;
}
