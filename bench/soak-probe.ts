import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { type Fixture, makeSizedVideo } from './fixtures';

/** One reading of the proxy process, taken from /proc (the server's own view, not the client's). */
export interface ProcessSample {
  readonly at: number;
  readonly rss: number;
  readonly hwm: number;
  readonly fds: number;
  readonly sockets: number;
  readonly tempFiles: number;
}

function statusField(status: string, field: string): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match?.[1] === undefined ? Number.NaN : Number(match[1]) * 1024;
}

/** Reads RSS, peak RSS, descriptors and sockets of `pid`, and the files in `spoolDir`. */
export function sampleProcess(pid: number, spoolDir: string): ProcessSample {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  let fds = 0;
  let sockets = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target: string;
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      // Closed between readdir and readlink: it is no longer open, so it does not count.
      continue;
    }
    fds += 1;
    if (target.startsWith('socket:')) sockets += 1;
  }
  return {
    at: Date.now(),
    rss: statusField(status, 'VmRSS'),
    hwm: statusField(status, 'VmHWM'),
    fds,
    sockets,
    tempFiles: fs.readdirSync(spoolDir).length,
  };
}

/**
 * A well-formed file of about `size` bytes made from the real sample: the proxy sniffs magic bytes
 * and walks the container structure, so the filler goes where the format allows it (an MP4 `free`
 * box, a private PNG chunk before IEND, ID3 padding ahead of the MP3 frames). Random filler, so
 * nothing gets a cheap ride out of compressible data.
 */
export function makePadded(dir: string, sample: string, size: number, contentType: string): Fixture {
  if (contentType === 'video/mp4') return makeSizedVideo(dir, sample, Math.max(size, fs.statSync(sample).size + 16));
  const base = fs.readFileSync(sample);
  const file = path.join(dir, `soak-${size}${path.extname(sample)}`);
  const filler = Math.max(0, size - base.length - 12);
  const bytes =
    filler === 0
      ? base
      : contentType === 'image/png'
        ? withPngFiller(base, filler)
        : contentType === 'audio/mpeg'
          ? withId3Padding(base, filler + 2)
          : Buffer.concat([base, randomBytes(filler)]);
  fs.writeFileSync(file, bytes);
  return { path: file, size: bytes.length, filename: path.basename(file), contentType };
}

/** A private ancillary PNG chunk of random bytes (CRC right) before IEND: a well-formed PNG of the size asked. */
function withPngFiller(png: Buffer, dataLength: number): Buffer {
  const iend = png.subarray(png.length - 12);
  const type = Buffer.from('paDd', 'latin1');
  const data = randomBytes(dataLength);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(dataLength);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(data, zlib.crc32(type)));
  return Buffer.concat([png.subarray(0, png.length - 12), length, type, data, crc, iend]);
}

/** An ID3v2.4 tag of zero padding ahead of the MP3: a well-formed MP3 of the size asked. */
function withId3Padding(mp3: Buffer, paddingLength: number): Buffer {
  const header = Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]);
  // The tag size is syncsafe: 7 bits per byte.
  for (let index = 0; index < 4; index += 1) header[9 - index] = (paddingLength >> (7 * index)) & 0x7f;
  return Buffer.concat([header, Buffer.alloc(paddingLength), mp3]);
}

/** The proxy's in-flight gauge from GET /metrics, or undefined if it cannot be read right now. */
export function uploadsInFlight(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const match = /^heygen_proxy_uploads_in_flight(?:\{[^}]*\})? (\S+)$/m.exec(Buffer.concat(chunks).toString());
        resolve(match?.[1] === undefined ? undefined : Number(match[1]));
      });
      response.on('error', () => resolve(undefined));
    });
    request.on('error', () => resolve(undefined));
    request.setTimeout(5_000, () => request.destroy());
  });
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
