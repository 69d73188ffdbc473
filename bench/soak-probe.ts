import { randomFillSync } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Fixture } from './fixtures';

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
 * A file that starts like the real sample (the proxy sniffs magic bytes, and MP3 needs its first
 * frames, not only the ID3 tag) and is padded with random bytes, so nothing gets a cheap ride out of
 * compressible data.
 */
export function makePadded(dir: string, sample: string, size: number, contentType: string): Fixture {
  const ext = path.extname(sample);
  const file = path.join(dir, `soak-${size}${ext}`);
  const head = fs.readFileSync(sample).subarray(0, size);
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, head);
    const chunk = Buffer.alloc(1024 * 1024);
    let written = head.length;
    // Bounded: each turn writes at least one byte until `size` is reached.
    while (written < size) {
      const slice = chunk.subarray(0, Math.min(chunk.length, size - written));
      randomFillSync(slice);
      written += fs.writeSync(fd, slice);
    }
  } finally {
    fs.closeSync(fd);
  }
  return { path: file, size, filename: path.basename(file), contentType };
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
