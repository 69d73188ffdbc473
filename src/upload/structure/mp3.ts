import { ChunkWalker } from './walker';

/**
 * MP3 (MPEG-1/2/2.5 audio): what is checked.
 * - Optional ID3v2 tags ("ID3", version 2-4, syncsafe size, +10 bytes with the footer flag), then
 *   MPEG audio frames. Every frame header is validated (11-bit sync, version not reserved, layer not
 *   reserved, bitrate index not 0 "free format" nor 15, sample-rate index not 3) and the walk jumps
 *   frame to frame by the computed frame length: EVERY frame must be followed directly by the next
 *   frame header (or by one of the allowances below). There is no resync over garbage: LAME and
 *   ffmpeg chain their frames exactly (so do the corpus files), and a resync allowance is exactly the
 *   gap a polyglot would use.
 * - At least one frame.
 * What it deliberately allows:
 * - runs of 0x00 bytes at any frame boundary (padding before the first frame after an ID3 tag, and
 *   that some tools leave between or after frames; zeros carry nothing);
 * - an ID3v2 tag at a frame boundary (concatenated files, appended tags);
 * - at the end: an APEv2 tag (with its header, as writers put it in files), a Lyrics3 v2 block
 *   (walked field by field), an extended "TAG+" block and an ID3v1 "TAG" (128 bytes); after one of
 *   these only more of them may follow, and nothing after the ID3v1 tag;
 * - a truncated last frame (streams cut by recorders and editors end mid-frame; a frame's payload is
 *   opaque anyway, so this lets through no more than any frame does: at most 2,880 bytes).
 * Lyrics3 v1 (free text to "LYRICSEND") is not supported: files with it are refused.
 */

const BITRATES: readonly (readonly number[])[] = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448], // MPEG-1 layer I
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384], // MPEG-1 layer II
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320], // MPEG-1 layer III
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256], // MPEG-2/2.5 layer I
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160], // MPEG-2/2.5 layers II and III
];
/** Indexed by the version bits: 0 MPEG-2.5, 1 reserved, 2 MPEG-2, 3 MPEG-1. */
const SAMPLE_RATES: readonly (readonly number[])[] = [[11025, 12000, 8000], [], [22050, 24000, 16000], [44100, 48000, 32000]];

/** The length in bytes of the frame whose header is h[0..3], or a reason it is not a frame header. */
export function mpegFrameLength(b1: number, b2: number): number | string {
  const version = (b1 >> 3) & 3;
  const layer = (b1 >> 1) & 3; // 1 = III, 2 = II, 3 = I
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (version === 1) return 'reserved MPEG version';
  if (layer === 0) return 'reserved layer';
  if (bitrateIndex === 0 || bitrateIndex === 15) return `bitrate index ${bitrateIndex}`;
  if (rateIndex === 3) return 'reserved sample rate';
  const mpeg1 = version === 3;
  const table = mpeg1 ? 3 - layer : layer === 3 ? 3 : 4;
  const bitrate = BITRATES[table]![bitrateIndex]! * 1000;
  const rate = SAMPLE_RATES[version]![rateIndex]!;
  const padding = (b2 >> 1) & 1;
  if (layer === 3) return (Math.floor((12 * bitrate) / rate) + padding) * 4;
  const factor = layer === 1 && !mpeg1 ? 72 : 144;
  return Math.floor((factor * bitrate) / rate) + padding;
}

const enum State {
  Boundary,
  Id3,
  Frame,
  Ape,
  Id3v1,
  LyricsBegin,
  LyricsField,
  LyricsEnd,
}

const ID3 = [0x49, 0x44, 0x33];
const APETAGEX = 'APETAGEX';
const LYRICSBEGIN = 'LYRICSBEGIN';

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function digits(bytes: Uint8Array, from: number, to: number): number {
  let value = 0;
  for (let k = from; k < to; k += 1) {
    if (!isDigit(bytes[k]!)) return -1;
    value = value * 10 + bytes[k]! - 0x30;
  }
  return value;
}

function matches(bytes: Uint8Array, text: string, at = 0): boolean {
  for (let k = 0; k < text.length; k += 1) if (bytes[at + k] !== text.charCodeAt(k)) return false;
  return true;
}

export class Mp3Walker extends ChunkWalker {
  private state = State.Boundary;
  private frames = 0;
  /** An end tag (APE, Lyrics3, ID3v1) was seen: no more frames. */
  private trailer = false;
  private afterId3v1 = false;
  /** The element being passed over is a frame (a truncated last frame is allowed). */
  private inFrame = false;
  private elementOffset = 0;
  private lyricsLeft = 0;

  constructor() {
    super(32, 1);
  }

  protected onHeader(): string | undefined {
    const h = this.header;
    switch (this.state) {
      case State.Boundary:
        return this.onBoundary();
      case State.Id3: {
        if (h[3]! < 2 || h[3]! > 4 || h[4] === 0xff) return `MP3 ID3v2 tag at offset ${this.headerOffset} has an unknown version`;
        let size = 0;
        for (let k = 6; k < 10; k += 1) {
          if (h[k]! & 0x80) return `MP3 ID3v2 tag at offset ${this.headerOffset} has an invalid size`;
          size = size * 128 + h[k]!;
        }
        this.skip = size + (h[5]! & 0x10 ? 10 : 0);
        return this.toBoundary();
      }
      case State.Ape: {
        if (!matches(h, APETAGEX)) return `MP3 has an invalid tag at offset ${this.headerOffset}`;
        const size = h[12]! + h[13]! * 0x100 + h[14]! * 0x10000 + h[15]! * 0x1000000;
        const isHeader = (h[23]! & 0x20) !== 0;
        if (!isHeader) return `MP3 APE tag at offset ${this.headerOffset} has no header`;
        if (size < 32) return `MP3 APE tag at offset ${this.headerOffset} has an invalid size`;
        this.skip = size; // items and footer
        this.trailer = true;
        return this.toBoundary();
      }
      case State.Id3v1:
        // "TAG+" (extended tag, 227 bytes) precedes the 128-byte ID3v1 tag; "TAG" is that tag.
        if (h[3] === 0x2b) {
          this.skip = 227 - 4;
        } else {
          this.skip = 128 - 4;
          this.afterId3v1 = true;
        }
        this.trailer = true;
        return this.toBoundary();
      case State.LyricsBegin:
        if (!matches(h, LYRICSBEGIN)) return `MP3 has an invalid tag at offset ${this.headerOffset}`;
        this.lyricsLeft = 1_000_000; // Lyrics3 v2 sizes are 6 decimal digits
        this.state = State.LyricsField;
        this.expect(8);
        return undefined;
      case State.LyricsField: {
        // A field: 3-character ID, 5-digit size, data. Or the end: 6-digit size then "LYRICS200".
        const fieldSize = digits(h, 3, 8);
        const idOk = h[0]! >= 0x41 && h[0]! <= 0x5a && h[1]! >= 0x41 && h[1]! <= 0x5a && h[2]! >= 0x41 && h[2]! <= 0x5a;
        if (idOk && fieldSize >= 0) {
          this.lyricsLeft -= 8 + fieldSize;
          if (this.lyricsLeft < 0) return `MP3 Lyrics3 block at offset ${this.elementOffset} is too long`;
          this.skip = fieldSize;
          this.expect(8);
          return undefined;
        }
        if (digits(h, 0, 6) < 0) return `MP3 Lyrics3 block at offset ${this.elementOffset} is not Lyrics3 v2`;
        this.state = State.LyricsEnd;
        this.need = 15;
        return undefined;
      }
      case State.LyricsEnd:
        if (!matches(h, 'LYRICS200', 6)) return `MP3 Lyrics3 block at offset ${this.elementOffset} does not end with LYRICS200`;
        this.trailer = true;
        return this.toBoundary();
      case State.Frame:
        return undefined; // not reached: frames are passed over by `skip`
    }
  }

  private toBoundary(): undefined {
    this.state = State.Boundary;
    this.expect(1);
    return undefined;
  }

  private onBoundary(): string | undefined {
    const h = this.header;
    this.inFrame = false;
    if (this.afterId3v1) return `MP3 has data after its ID3v1 tag, at offset ${this.headerOffset}`;
    if (this.need === 1) {
      if (h[0] === 0x00) {
        this.scanning = true; // zero padding
        this.have = 0;
        return undefined;
      }
      this.need = 4;
      return undefined;
    }
    this.elementOffset = this.headerOffset;
    if (h[0] === 0xff && (h[1]! & 0xe0) === 0xe0) {
      if (this.trailer) return `MP3 has an MPEG frame after its end tags, at offset ${this.headerOffset}`;
      const length = mpegFrameLength(h[1]!, h[2]!);
      if (typeof length === 'string') return `MP3 frame header at offset ${this.headerOffset} is invalid (${length})`;
      this.frames += 1;
      this.inFrame = true;
      this.skip = length - 4;
      this.expect(1);
      return undefined;
    }
    if (h[0] === ID3[0] && h[1] === ID3[1] && h[2] === ID3[2]) {
      this.state = State.Id3;
      this.need = 10;
      return undefined;
    }
    if (h[0] === 0x54 && h[1] === 0x41 && h[2] === 0x47) {
      this.state = State.Id3v1;
      return this.onHeader();
    }
    if (matches(h, 'APET')) {
      this.state = State.Ape;
      this.need = 32;
      return undefined;
    }
    if (matches(h, 'LYRI')) {
      this.state = State.LyricsBegin;
      this.need = 11;
      return undefined;
    }
    return this.frames === 0
      ? `MP3 has no MPEG audio frame where one must start, at offset ${this.headerOffset}`
      : `MP3 frame ${this.frames} is not followed by another frame or an end tag, at offset ${this.headerOffset}`;
  }

  /** Zero padding at a frame boundary. */
  protected override scan(chunk: Uint8Array, from: number): number {
    const length = chunk.length;
    let i = from;
    while (i < length && chunk[i] === 0) i += 1;
    if (i < length) this.scanning = false;
    return i;
  }

  protected finish(): string | undefined {
    if (this.have > 0) return `MP3 ended inside a header at offset ${this.headerOffset}`;
    if (this.skip > 0 && !this.inFrame) return `MP3 ended inside the tag at offset ${this.elementOffset}`;
    if (this.state !== State.Boundary) return `MP3 ended inside the tag at offset ${this.elementOffset}`;
    if (this.frames === 0) return 'MP3 has no MPEG audio frame';
    return undefined;
  }
}
