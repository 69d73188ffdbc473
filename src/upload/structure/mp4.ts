import { ChunkWalker, fourCC, u32 } from './walker';

/**
 * MP4 (ISO base media file format): what is checked.
 * - Top-level boxes tile the whole file exactly: each has a 32-bit size and a 4-character type;
 *   size 1 means a 64-bit largesize follows (then the size must be >= 16), size 0 means "to the end
 *   of the file" (so it can only be the last box), any other size must be >= 8. A box whose size runs
 *   past the end of the file, or a file that ends inside a box header, is refused at `end()`.
 * - Box types are 4 printable ASCII characters (0x20-0x7E); the first box is `ftyp` (at least 16
 *   bytes: major brand and minor version).
 * - A `moov` box is present somewhere at the top level.
 * What it deliberately allows: `moov` before or after `mdat` (faststart or not), fragmented files
 * (moov, then moof/mdat pairs, sidx, styp, mfra...), any other top-level box type (free, skip, wide,
 * uuid, meta, pdin...). Box contents are not walked: an `mdat` is opaque payload by definition.
 */

const FTYP = 0x66747970;
const MOOV = 0x6d6f6f76;

function isPrintable(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e;
}

export class Mp4Walker extends ChunkWalker {
  private boxes = 0;
  private sawMoov = false;
  private toEnd = false;
  private boxType = '';
  private boxOffset = 0;
  private boxSize = 0;

  constructor() {
    super(16, 8);
  }

  protected onHeader(): string | undefined {
    const h = this.header;
    if (this.need === 8) {
      for (let k = 4; k < 8; k += 1) {
        if (!isPrintable(h[k]!)) return `MP4 top-level box at offset ${this.headerOffset} has an invalid type '${fourCC(h, 4)}'`;
      }
      const type = u32(h, 4);
      if (this.boxes === 0 && type !== FTYP) return `MP4 first box is '${fourCC(h, 4)}', not 'ftyp'`;
      if (type === MOOV) this.sawMoov = true;
      this.boxes += 1;
      this.boxType = fourCC(h, 4);
      this.boxOffset = this.headerOffset;
      const size = u32(h, 0);
      if (size === 1) {
        this.need = 16; // the 64-bit largesize follows; keep gathering
        return undefined;
      }
      if (size === 0) {
        if (this.boxes === 1) return "MP4 'ftyp' box claims to extend to the end of the file";
        this.toEnd = true;
        this.skip = Infinity;
        this.expect(8);
        return undefined;
      }
      if (size < 8) return `MP4 top-level box '${this.boxType}' at offset ${this.boxOffset} has an invalid size ${size}`;
      if (this.boxes === 1 && size < 16) return `MP4 'ftyp' box is too small (${size} bytes)`;
      this.boxSize = size;
      this.skip = size - 8;
      this.expect(8);
      return undefined;
    }
    // need === 16: the largesize of a size-1 box.
    const size = u32(h, 8) * 0x100000000 + u32(h, 12);
    if (size < 16) return `MP4 top-level box '${this.boxType}' at offset ${this.boxOffset} has an invalid largesize ${size}`;
    this.boxSize = size;
    this.skip = size - 16;
    this.expect(8);
    return undefined;
  }

  protected finish(): string | undefined {
    if (this.boxes === 0 && this.have === 0) return 'MP4 file is empty';
    if (this.have > 0) return `MP4 ended inside the header of the top-level box at offset ${this.headerOffset}`;
    if (this.skip > 0 && !this.toEnd) {
      return `MP4 top-level box '${this.boxType}' at offset ${this.boxOffset} has size ${this.boxSize}, beyond the end of the file (${this.offset} bytes)`;
    }
    if (!this.sawMoov) return "MP4 has no 'moov' box";
    return undefined;
  }
}
