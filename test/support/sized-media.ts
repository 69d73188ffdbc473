import { randomFillSync } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * Structurally valid media files of an exact size, for tests and benchmarks that need big uploads.
 * Unlike `paddedFile` (a real header, then random bytes) these pass the structure walkers in
 * src/upload/structure and still start exactly like the fixture, so file-type detects the same type.
 * Each one is a test/fixtures sample with random (incompressible) bytes placed where the format
 * allows opaque data:
 * - video/mp4: the sample's boxes, then a top-level `free` box of random bytes (64-bit largesize
 *   past 4 GiB). Appended, so the sample's chunk offsets stay right. Sizes: the sample's, or >= +8.
 * - image/png: private ancillary `paDd` chunks of random bytes (with correct CRCs) before IEND.
 *   Sizes: the sample's, or >= +12.
 * - image/jpeg: COM segments of random bytes right after SOI, and up to 3 FF fill bytes before the
 *   next marker for the remainder. Any size >= the sample's.
 * - video/webm: an EBML Void element of random bytes at the end of the Segment, whose size is fixed
 *   up. Sizes: the sample's, or >= +2.
 * - audio/mpeg: the sample (ID3v2 tag and frames) followed by 320 kbit/s MPEG-1 layer III frames with
 *   zero side information (silent to a decoder) and random ancillary bytes (1044 or 1045 bytes each); what frames cannot make up exactly goes into the
 *   ID3v2 tag's zero padding. Any size >= the sample's.
 * `sizedMediaChunks` yields the file in pieces of at most 1 MiB, so `writeSizedMedia` and
 * `sizedMediaStream` make files of hundreds of MiB without holding them in memory.
 */

export type SizedMediaType = 'image/png' | 'image/jpeg' | 'video/mp4' | 'video/webm' | 'audio/mpeg';

const FIXTURES_DIR = join(__dirname, '..', 'fixtures');
const SAMPLES: Record<SizedMediaType, string> = {
  'image/png': 'sample.png',
  'image/jpeg': 'sample.jpg',
  'video/mp4': 'sample.mp4',
  'video/webm': 'sample.webm',
  'audio/mpeg': 'sample.mp3',
};
const PIECE = 1024 * 1024;

function sample(mediaType: SizedMediaType): Buffer {
  return readFileSync(join(FIXTURES_DIR, SAMPLES[mediaType]));
}

function* randomBytes(count: number): Generator<Buffer> {
  for (let left = count; left > 0; left -= PIECE) yield randomFillSync(Buffer.allocUnsafe(Math.min(PIECE, left)));
}

function tooSmall(mediaType: SizedMediaType, size: number, minimum: string): Error {
  return new Error(`sizedMedia(${mediaType}, ${size}): the size must be ${minimum}`);
}


function* mp4(size: number): Generator<Buffer> {
  const base = sample('video/mp4');
  const extra = size - base.length;
  if (extra !== 0 && extra < 8) throw tooSmall('video/mp4', size, `${base.length} or at least ${base.length + 8}`);
  yield base;
  if (extra === 0) return;
  if (extra <= 0xffffffff) {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(extra, 0);
    header.write('free', 4, 'latin1');
    yield header;
    yield* randomBytes(extra - 8);
  } else {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(1, 0);
    header.write('free', 4, 'latin1');
    header.writeBigUInt64BE(BigInt(extra), 8);
    yield header;
    yield* randomBytes(extra - 16);
  }
}

function* png(size: number): Generator<Buffer> {
  const base = sample('image/png');
  const extra = size - base.length;
  if (extra !== 0 && extra < 12) throw tooSmall('image/png', size, `${base.length} or at least ${base.length + 12}`);
  const iend = base.length - 12; // the sample ends with its IEND chunk
  if (base.toString('latin1', iend + 4, iend + 8) !== 'IEND') throw new Error('sample.png does not end with IEND');
  yield base.subarray(0, iend);
  const MAX = 0x7fffffff;
  let left = extra;
  while (left > 0) {
    // One chunk of up to 2^31 - 1 data bytes; never leave a remainder below a chunk's 12-byte overhead.
    let data = Math.min(left - 12, MAX);
    if (left - (data + 12) > 0 && left - (data + 12) < 12) data -= 12;
    const header = Buffer.alloc(8);
    header.writeUInt32BE(data, 0);
    header.write('paDd', 4, 'latin1');
    yield header;
    let crc = zlib.crc32(header.subarray(4));
    for (const piece of randomBytes(data)) {
      crc = zlib.crc32(piece, crc);
      yield piece;
    }
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32BE(crc >>> 0, 0);
    yield trailer;
    left -= data + 12;
  }
  yield base.subarray(iend);
}

function* jpeg(size: number): Generator<Buffer> {
  const base = sample('image/jpeg');
  let extra = size - base.length;
  if (extra < 0) throw tooSmall('image/jpeg', size, `at least ${base.length}`);
  yield base.subarray(0, 2); // SOI
  while (extra >= 4) {
    const segment = Math.min(extra, 65535 + 2); // FF FE, then a length of up to 65535 that counts itself
    const header = Buffer.from([0xff, 0xfe, 0, 0]);
    header.writeUInt16BE(segment - 2, 2);
    yield header;
    yield* randomBytes(segment - 4);
    extra -= segment;
  }
  if (extra > 0) yield Buffer.alloc(extra, 0xff); // fill bytes before the sample's next marker
  yield base.subarray(2);
}

/** Offset and byte length of the size field of the element whose ID starts at `at`. */
function ebmlSizeField(bytes: Buffer, at: number): { offset: number; length: number; value: number } {
  const idLength = Math.clz32(bytes[at]!) - 23;
  const offset = at + idLength;
  const length = Math.clz32(bytes[offset]!) - 23;
  let value = bytes[offset]! & (0xff >> length);
  for (let k = 1; k < length; k += 1) value = value * 256 + bytes[offset + k]!;
  return { offset, length, value };
}

function* webm(size: number): Generator<Buffer> {
  const base = Buffer.from(sample('video/webm'));
  const extra = size - base.length;
  if (extra === 1) throw tooSmall('video/webm', size, `${base.length} or at least ${base.length + 2}`);
  if (extra < 0) throw tooSmall('video/webm', size, `at least ${base.length}`);
  if (extra === 0) {
    yield base;
    return;
  }
  const ebml = ebmlSizeField(base, 0);
  const segmentAt = ebml.offset + ebml.length + ebml.value;
  const segment = ebmlSizeField(base, segmentAt);
  if (segment.length !== 8 || segment.offset + segment.length + segment.value !== base.length) {
    throw new Error('sample.webm does not have an 8-byte-size Segment that ends the file');
  }
  let newSize = BigInt(segment.value + extra);
  for (let k = 7; k >= 0; k -= 1) {
    base[segment.offset + k] = Number(newSize & 0xffn);
    newSize >>= 8n;
  }
  base[segment.offset] = 0x01; // the 8-byte vint marker (sizes stay far below 2^56)
  yield base;
  if (extra <= 128) {
    yield Buffer.from([0xec, 0x80 | (extra - 2)]);
    yield Buffer.alloc(extra - 2);
    return;
  }
  const header = Buffer.alloc(9);
  header[0] = 0xec;
  let voidSize = BigInt(extra - 9);
  for (let k = 8; k >= 1; k -= 1) {
    header[k] = Number(voidSize & 0xffn);
    voidSize >>= 8n;
  }
  header[1] = 0x01;
  yield header;
  yield* randomBytes(extra - 9);
}

function* mp3(size: number): Generator<Buffer> {
  const base = Buffer.from(sample('audio/mpeg'));
  const extra = size - base.length;
  if (extra < 0) throw tooSmall('audio/mpeg', size, `at least ${base.length}`);
  if (base.toString('latin1', 0, 3) !== 'ID3') throw new Error('sample.mp3 does not start with an ID3v2 tag');
  const FRAME = 1044; // MPEG-1 layer III, 320 kbit/s, 44.1 kHz; 1045 with the padding bit
  const frames = Math.floor(extra / FRAME);
  let padded = Math.min(extra - frames * FRAME, frames);
  const tagPadding = extra - frames * FRAME - padded;
  const tagSize = (base[6]! << 21) | (base[7]! << 14) | (base[8]! << 7) | base[9]!;
  const newTagSize = tagSize + tagPadding;
  for (let k = 0; k < 4; k += 1) base[9 - k] = (newTagSize >> (7 * k)) & 0x7f;
  const tagEnd = 10 + tagSize + (base[5]! & 0x10 ? 10 : 0);
  yield base.subarray(0, tagEnd);
  if (tagPadding > 0) yield Buffer.alloc(tagPadding);
  yield base.subarray(tagEnd);
  const perPiece = Math.floor(PIECE / (FRAME + 1));
  for (let done = 0; done < frames; ) {
    const count = Math.min(perPiece, frames - done);
    const piece = Buffer.allocUnsafe(count * (FRAME + 1));
    randomFillSync(piece);
    let at = 0;
    for (let k = 0; k < count; k += 1) {
      const pad = padded > 0 ? 1 : 0;
      padded -= pad;
      piece[at] = 0xff;
      piece[at + 1] = 0xfb; // MPEG-1, layer III, no CRC
      piece[at + 2] = 0xe0 | (pad << 1); // bitrate index 14 (320 kbit/s), 44.1 kHz
      piece[at + 3] = 0xc4; // mono, original
      piece.fill(0, at + 4, at + 4 + 17); // zero side information: a silent frame; the rest is ancillary data
      at += FRAME + pad;
    }
    yield piece.subarray(0, at);
    done += count;
  }
}

/** The file of exactly `size` bytes, in pieces (at most 1 MiB of generated bytes each). */
export function sizedMediaChunks(mediaType: SizedMediaType, size: number): Generator<Buffer> {
  switch (mediaType) {
    case 'video/mp4':
      return mp4(size);
    case 'image/png':
      return png(size);
    case 'image/jpeg':
      return jpeg(size);
    case 'video/webm':
      return webm(size);
    case 'audio/mpeg':
      return mp3(size);
  }
}

/** A structurally valid file of the type, exactly `size` bytes, in memory. */
export function sizedMedia(mediaType: SizedMediaType, size: number): Buffer {
  return Buffer.concat([...sizedMediaChunks(mediaType, size)]);
}

/** The same file as a stream (for uploads of hundreds of MiB). */
export function sizedMediaStream(mediaType: SizedMediaType, size: number): Readable {
  return Readable.from(sizedMediaChunks(mediaType, size), { objectMode: false });
}

/** Writes the file to `path` piece by piece; returns `path`. */
export function writeSizedMedia(path: string, mediaType: SizedMediaType, size: number): string {
  const fd = openSync(path, 'w');
  try {
    for (const piece of sizedMediaChunks(mediaType, size)) writeSync(fd, piece);
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The smallest size `sizedMedia` makes for the type (the sample's own size). */
export function sizedMediaMinimum(mediaType: SizedMediaType): number {
  return sample(mediaType).length;
}
