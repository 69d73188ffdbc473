import zlib from 'node:zlib';
import { ChunkWalker, fourCC, u32 } from './walker';

/**
 * PNG: what is checked.
 * - The 8-byte signature 89 50 4E 47 0D 0A 1A 0A.
 * - Then chunks tile the rest of the file exactly: 4-byte length (at most 2^31 - 1, as the spec
 *   says), 4-byte type made of ASCII letters only, the data, a 4-byte CRC.
 * - The first chunk is IHDR with a length of 13; at least one IDAT comes before IEND.
 * - IEND has length 0 and ends the file: a single byte after its CRC is refused (that is where
 *   "PNG + HTML" polyglots put their second file).
 * - Each chunk's CRC matches (type + data), with node:zlib's native crc32 (about 4 GB/s here, so
 *   it costs little next to the upload itself).
 * What it deliberately allows: any ancillary or private chunk type (tEXt, iTXt, eXIf, acTL/fcTL/fdAT
 * of APNG, vendor chunks), any chunk order after IHDR, any image content (the data is not inflated).
 */


const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CHUNK_LENGTH = 0x7fffffff;

const enum State {
  Signature,
  ChunkHeader,
  Crc,
  AfterEnd,
}

function isLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

export class PngWalker extends ChunkWalker {
  private state = State.Signature;
  private chunks = 0;
  private sawIdat = false;
  private isIend = false;
  private chunkType = '';
  private chunkOffset = 0;
  /** Payload bytes of the current chunk not yet seen by the CRC. */
  private dataLeft = 0;
  private crc = 0;

  constructor() {
    super(8, 8);
  }

  protected onHeader(): string | undefined {
    const h = this.header;
    switch (this.state) {
      case State.Signature:
        for (let k = 0; k < 8; k += 1) if (h[k] !== SIGNATURE[k]) return 'PNG signature is missing';
        this.state = State.ChunkHeader;
        this.expect(8);
        return undefined;
      case State.ChunkHeader: {
        const length = u32(h, 0);
        if (!isLetter(h[4]!) || !isLetter(h[5]!) || !isLetter(h[6]!) || !isLetter(h[7]!)) {
          return `PNG chunk at offset ${this.headerOffset} has an invalid type '${fourCC(h, 4)}'`;
        }
        const type = fourCC(h, 4);
        if (length > MAX_CHUNK_LENGTH) return `PNG chunk '${type}' at offset ${this.headerOffset} has an invalid length ${length}`;
        if (this.chunks === 0 && (type !== 'IHDR' || length !== 13)) return `PNG first chunk is '${type}', not a 13-byte 'IHDR'`;
        if (this.chunks > 0 && type === 'IHDR') return `PNG chunk 'IHDR' repeated at offset ${this.headerOffset}`;
        this.isIend = type === 'IEND';
        if (this.isIend) {
          if (!this.sawIdat) return "PNG chunk 'IEND' comes before any 'IDAT'";
          if (length !== 0) return "PNG chunk 'IEND' has a non-zero length";
        }
        if (type === 'IDAT') this.sawIdat = true;
        this.chunks += 1;
        this.chunkType = type;
        this.chunkOffset = this.headerOffset;
        this.crc = zlib.crc32(h.subarray(4, 8));
        this.dataLeft = length;
        this.scanning = length > 0;
        this.state = State.Crc;
        this.expect(4);
        return undefined;
      }
      case State.Crc:
        if (u32(h, 0) !== this.crc) {
          return `PNG chunk '${this.chunkType}' at offset ${this.chunkOffset} has a wrong CRC`;
        }
        this.state = this.isIend ? State.AfterEnd : State.ChunkHeader;
        this.expect(this.isIend ? 1 : 8);
        return undefined;
      case State.AfterEnd:
        return "PNG chunk 'IEND' is not at the end of the file";
    }
  }

  /** Feeds the chunk's data to the CRC. */
  protected override scan(chunk: Uint8Array, from: number): number {
    const step = Math.min(this.dataLeft, chunk.length - from);
    this.crc = zlib.crc32(from === 0 && step === chunk.length ? chunk : chunk.subarray(from, from + step), this.crc);
    this.dataLeft -= step;
    if (this.dataLeft === 0) this.scanning = false;
    return from + step;
  }

  protected finish(): string | undefined {
    if (this.state === State.AfterEnd && this.have === 0) return undefined;
    if (this.state === State.Signature) return 'PNG signature is missing';
    if (this.state === State.ChunkHeader && this.have > 0) return `PNG ended inside a chunk header at offset ${this.headerOffset}`;
    if (this.scanning || this.skip > 0 || this.have > 0) {
      return `PNG ended inside chunk '${this.chunkType}' at offset ${this.chunkOffset}`;
    }
    return "PNG has no 'IEND' chunk at the end of the file";
  }
}
