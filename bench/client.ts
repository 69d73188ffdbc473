import fs from 'node:fs';
import http from 'node:http';
import type { Fixture } from './fixtures';

const BOUNDARY = '----bench-boundary-7d3f0c9a';

/** What a browser form sends: one `file` part. Precomputed so the client only streams the file. */
export interface MultipartFrame {
  readonly contentType: string;
  readonly preamble: Buffer;
  readonly epilogue: Buffer;
}

export function multipartFrame(fixture: Fixture): MultipartFrame {
  return {
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    preamble: Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${fixture.filename}"\r\n` +
        `Content-Type: ${fixture.contentType}\r\n\r\n`,
    ),
    epilogue: Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  };
}

/** The whole multipart body in memory: only for the ~80 KB file that autocannon repeats. */
export function multipartBody(fixture: Fixture): { contentType: string; body: Buffer } {
  const frame = multipartFrame(fixture);
  return { contentType: frame.contentType, body: Buffer.concat([frame.preamble, fs.readFileSync(fixture.path), frame.epilogue]) };
}

export interface UploadResult {
  readonly status: number;
  readonly ms: number;
  readonly body: string;
}

// Its own agent without keep-alive: each upload is a fresh connection, as a browser's large upload
// usually is, and no idle socket outlives a scenario's servers.
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

/**
 * Streams one file to 127.0.0.1:`port` with an exact Content-Length: multipart when `multipart` is
 * true (the relays and the project), the raw file otherwise (the direct contender). The client reads
 * the file from disk in 64 KiB chunks, so its own memory stays flat whatever the size.
 */
export function upload(port: number, fixture: Fixture, multipart: boolean): Promise<UploadResult> {
  const frame = multipart ? multipartFrame(fixture) : undefined;
  const length = fixture.size + (frame ? frame.preamble.length + frame.epilogue.length : 0);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/asset',
        method: 'POST',
        agent,
        headers: {
          'content-type': frame ? frame.contentType : fixture.contentType,
          'content-length': length,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, ms: performance.now() - started, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // A hung server must fail the upload, not hang the run: no byte either way for 30 s ends it.
    request.setTimeout(30_000, () => request.destroy(new Error('no progress for 30 s')));
    if (frame) request.write(frame.preamble);
    const file = fs.createReadStream(fixture.path, { highWaterMark: 64 * 1024 });
    file.on('error', reject);
    file.pipe(request, { end: false });
    file.on('end', () => request.end(frame?.epilogue));
  });
}
