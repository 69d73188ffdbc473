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

/** One HTTP exchange on the bench agent; the body (a file range) is streamed, never read whole. */
function exchange(
  port: number,
  method: string,
  urlPath: string,
  headers: http.OutgoingHttpHeaders,
  body?: { path: string; start: number; length: number },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: urlPath, method, agent, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.setTimeout(30_000, () => request.destroy(new Error('no progress for 30 s')));
    if (body === undefined || body.length === 0) {
      request.end();
      return;
    }
    const file = fs.createReadStream(body.path, { start: body.start, end: body.start + body.length - 1, highWaterMark: 64 * 1024 });
    file.on('error', reject);
    file.pipe(request);
  });
}

const base64 = (text: string): string => Buffer.from(text).toString('base64');

/**
 * A tus 1.0.0 upload to `/v1/uploads`: creation (`Upload-Length`, `Upload-Metadata` filename and
 * filetype), then `PATCH`es of `chunkSize` bytes, each streamed from its range of the file. Every
 * chunk but the last must answer 204 with the new `Upload-Offset`; the last one 200 with the asset
 * record, which is what the result's status and body are. A refusal ends the upload at once.
 */
export async function tusUpload(port: number, fixture: Fixture, chunkSize: number): Promise<UploadResult> {
  const started = performance.now();
  const done = (status: number, body: string): UploadResult => ({ status, ms: performance.now() - started, body });
  const created = await exchange(port, 'POST', '/v1/uploads', {
    'tus-resumable': '1.0.0',
    'upload-length': String(fixture.size),
    'upload-metadata': `filename ${base64(fixture.filename)},filetype ${base64(fixture.contentType)}`,
    'content-length': 0,
  });
  const location = created.headers.location;
  if (created.status !== 201 || location === undefined) return done(created.status, `creation: ${created.body}`);
  const uploadPath = new URL(location, `http://127.0.0.1:${port}`).pathname;
  let offset = 0;
  // Bounded: each turn sends at least one byte or returns.
  while (offset < fixture.size) {
    const length = Math.min(chunkSize, fixture.size - offset);
    const answer = await exchange(
      port,
      'PATCH',
      uploadPath,
      {
        'tus-resumable': '1.0.0',
        'upload-offset': String(offset),
        'content-type': 'application/offset+octet-stream',
        'content-length': length,
      },
      { path: fixture.path, start: offset, length },
    );
    const last = offset + length === fixture.size;
    if (last) return answer.status === 200 ? done(200, answer.body) : done(answer.status, `last PATCH: ${answer.body}`);
    if (answer.status !== 204 || Number(answer.headers['upload-offset']) !== offset + length) {
      return done(answer.status === 204 ? 500 : answer.status, `PATCH at ${offset}: Upload-Offset ${String(answer.headers['upload-offset'])} ${answer.body}`);
    }
    offset += length;
  }
  return done(500, 'empty file');
}
