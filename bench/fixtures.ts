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
 * A real MP4 header (the fixture's `ftyp` box and what follows) padded with random bytes to `size`:
 * the project sniffs magic bytes, so the file must really start like an MP4; random padding keeps
 * any layer from getting a cheap ride out of compressible data.
 */
export function makeVideo(dir: string, sample: string, size: number): Fixture {
  const file = path.join(dir, `video-${size}.mp4`);
  const head = fs.readFileSync(sample).subarray(0, size);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    const chunk = Buffer.alloc(4 * 1024 * 1024);
    let written = head.length;
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

function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit += 1) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
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
