import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

export interface Fixture {
  readonly path: string;
  readonly size: number;
  readonly filename: string;
  readonly contentType: string;
}

/**
 * A structurally valid MP4 of exactly `size` bytes: the whole sample (ftyp, mdat, moov), then one
 * top-level `free` box of random bytes (64-bit largesize past 4 GiB). The project checks magic bytes
 * and container structure, so the file must be a real MP4 from its first byte to its last; random
 * filler keeps any layer from getting a cheap ride out of compressible data.
 * (test/support/sized-media.ts makes the same files, and the other four types, for tests.)
 */
export function makeSizedVideo(dir: string, sample: string, size: number): Fixture {
  const file = path.join(dir, `video-${size}.mp4`);
  const base = fs.readFileSync(sample);
  const extra = size - base.length;
  if (extra !== 0 && extra < 16) throw new Error(`makeSizedVideo: ${size} bytes is too small (the sample alone is ${base.length})`);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, base);
    if (extra > 0) {
      const header = Buffer.alloc(16);
      header.writeUInt32BE(1, 0); // size 1: a 64-bit largesize follows, whatever the size
      header.write('free', 4, 'latin1');
      header.writeBigUInt64BE(BigInt(extra), 8);
      fs.writeSync(fd, header);
    }
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let written = Math.min(size, base.length + 16);
    // Bounded: each turn writes at least one byte until `size` is reached.
    while (written < size) {
      const slice = chunk.subarray(0, Math.min(chunk.length, size - written));
      randomFillSync(slice);
      written += fs.writeSync(fd, slice);
    }
    // Flushed now, so the kernel's writeback of a fresh GiB does not land inside the first repetition.
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { path: file, size, filename: path.basename(file), contentType: 'video/mp4' };
}

function chunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

/**
 * A valid ~80 KB RGB PNG of deterministic noise (a fixed-seed xorshift), assembled by hand with zlib
 * so no image library is needed. Noise does not compress, which is what keeps the file ~80 KB.
 */
export function makePng(dir: string): Fixture {
  const width = 164;
  const height = 164;
  const raw = Buffer.alloc(height * (1 + width * 3));
  let state = 0x2545f491;
  for (let row = 0; row < height; row += 1) {
    const start = row * (1 + width * 3);
    raw[start] = 0; // filter type "none" for every scanline
    for (let i = start + 1; i < start + 1 + width * 3; i += 1) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      raw[i] = state & 0xff;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8); // bit depth
  header.writeUInt8(2, 9); // colour type: truecolour RGB
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  const file = path.join(dir, 'noise.png');
  fs.writeFileSync(file, png);
  return { path: file, size: png.length, filename: 'noise.png', contentType: 'image/png' };
}
