import { ChunkWalker, u16 } from './walker';

/**
 * JPEG: what is checked.
 * - The file starts with SOI (FF D8).
 * - Where a marker must be, there is one: FF, any number of FF fill bytes, then a marker code that
 *   exists (C0-CF, DA-FE segments; D0-D7 RSTn and 01 TEM standalone). Bytes that are no marker
 *   (an `MZ` right after SOI, 00, 02-BF) are refused.
 * - Marker segments carry a 2-byte length >= 2 and are passed over by it.
 * - A frame header (SOFn) comes before the first SOS; after each SOS header the entropy-coded data
 *   is scanned for the next marker (FF 00 stuffing and RSTn inside the data are skipped); more
 *   segments and scans may follow (progressive JPEGs carry several SOS with DHT etc. between them).
 * - An EOI (FF D9) follows the scan data. A file that ends without it is refused; so is an EOI
 *   before any scan, and a second SOI.
 * What it deliberately allows: ANY data after EOI. Phones and cameras append data there (Samsung
 * trailers, MPO's second image, Google's motion-photo MP4, padding) and refusing it would refuse
 * real photos; the uploaded file is still a complete JPEG up to its EOI, and the suffix is never
 * parsed as JPEG by a decoder. Which APPn/COM segments appear and in what order is not checked.
 */

const enum State {
  Soi,
  Marker,
  Done,
}

export class JpegWalker extends ChunkWalker {
  private state = State.Soi;
  private sawFrame = false;
  private sawScan = false;
  /** After an SOS segment, the entropy-coded data starts once its header has been passed over. */
  private scanNext = false;
  /** Inside entropy-coded data, the previous byte was FF. */
  private pendingFF = false;
  private segmentOffset = 0;

  constructor() {
    super(4, 2);
  }

  protected onHeader(): string | undefined {
    const h = this.header;
    if (this.state === State.Soi) {
      if (h[0] !== 0xff || h[1] !== 0xd8) return 'JPEG does not start with SOI (FF D8)';
      this.state = State.Marker;
      this.expect(2);
      return undefined;
    }
    if (this.need === 4) {
      // The length of the segment whose marker is in h[1].
      const length = u16(h, 2);
      if (length < 2) return `JPEG segment 0xFF${hexByte(h[1]!)} at offset ${this.segmentOffset} has an invalid length ${length}`;
      this.skip = length - 2;
      if (this.scanNext) {
        this.scanNext = false;
        this.scanning = true;
        this.pendingFF = false;
      }
      this.expect(2);
      return undefined;
    }
    if (h[0] !== 0xff) return `JPEG expected a marker at offset ${this.headerOffset}, found 0x${hexByte(h[0]!)}`;
    const marker = h[1]!;
    if (marker === 0xff) {
      // Fill byte: the FF just read may start the marker.
      this.have = 1;
      return undefined;
    }
    this.segmentOffset = this.headerOffset;
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      this.expect(2);
      return undefined;
    }
    if (marker === 0xd9) {
      if (!this.sawScan) return `JPEG EOI at offset ${this.headerOffset} comes before any scan`;
      this.state = State.Done;
      this.have = 0;
      this.skip = Infinity; // trailing data after EOI is allowed, see above
      return undefined;
    }
    if (marker === 0xd8) return `JPEG has a second SOI at offset ${this.headerOffset}`;
    if (marker < 0xc0) return `JPEG expected a marker at offset ${this.headerOffset}, found 0xFF${hexByte(marker)}`;
    if (marker === 0xda) {
      if (!this.sawFrame) return `JPEG scan at offset ${this.headerOffset} comes before any frame header (SOF)`;
      this.sawScan = true;
      this.scanNext = true;
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      this.sawFrame = true;
    }
    this.need = 4;
    return undefined;
  }

  /** Entropy-coded data: look for the next FF that starts a marker. */
  protected override scan(chunk: Uint8Array, from: number): number {
    const length = chunk.length;
    let i = from;
    while (i < length) {
      if (this.pendingFF) {
        const byte = chunk[i]!;
        if (byte === 0xff) {
          i += 1;
          continue;
        }
        this.pendingFF = false;
        if (byte === 0x00 || (byte >= 0xd0 && byte <= 0xd7)) {
          i += 1;
          continue;
        }
        // A marker ends the scan data: hand "FF <marker>" back to the header loop.
        this.scanning = false;
        this.header[0] = 0xff;
        this.have = 1;
        this.need = 2;
        this.headerOffset = this.offset + (i - from) - 1;
        return i;
      }
      const ff = chunk.indexOf(0xff, i);
      if (ff < 0) return length;
      this.pendingFF = true;
      i = ff + 1;
    }
    return i;
  }

  protected finish(): string | undefined {
    if (this.state === State.Done) return undefined;
    if (this.state === State.Soi) return 'JPEG does not start with SOI (FF D8)';
    if (this.skip > 0 || this.need === 4) return `JPEG ended inside the segment at offset ${this.segmentOffset}`;
    return 'JPEG has no EOI (FF D9) after its scan data';
  }
}

function hexByte(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}
