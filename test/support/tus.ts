import { stat } from 'node:fs/promises';
import http from 'node:http';
import { type RawResponse, readResponse } from './raw-http';
import { waitForPath } from './wait';

/**
 * A minimal tus 1.0.0 client over raw HTTP for the resumable tests: each request is explicit, so a
 * test can cut one short, repeat one or send one to another server.
 */

export function tusMetadata(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([key, value]) => `${key} ${Buffer.from(value).toString('base64')}`)
    .join(',');
}

export function tusRequest(
  url: string,
  method: string,
  headers: http.OutgoingHttpHeaders = {},
  body?: Buffer,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: { 'Tus-Resumable': '1.0.0', ...(body === undefined ? {} : { 'Content-Length': body.length }), ...headers } },
      (res) => void readResponse(res).then(resolve, reject),
    );
    req.once('error', reject);
    req.end(body);
  });
}

export interface Created {
  readonly response: RawResponse;
  /** The absolute upload URL (Location is relative). */
  readonly url: string;
  readonly id: string;
}

export async function createUpload(
  base: string,
  length: number | 'deferred',
  metadata: Record<string, string>,
  headers: http.OutgoingHttpHeaders = {},
): Promise<Created> {
  const response = await tusRequest(`${base}/v1/uploads`, 'POST', {
    ...(length === 'deferred' ? { 'Upload-Defer-Length': '1' } : { 'Upload-Length': String(length) }),
    ...(Object.keys(metadata).length > 0 ? { 'Upload-Metadata': tusMetadata(metadata) } : {}),
    ...headers,
  });
  const location = typeof response.headers.location === 'string' ? response.headers.location : '';
  const url = location === '' ? '' : new URL(location, base).toString();
  return { response, url, id: url.split('/').pop() ?? '' };
}

export function patchChunk(url: string, offset: number, chunk: Buffer, headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse> {
  return tusRequest(url, 'PATCH', { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers }, chunk);
}

/** Sends `bytes` from `offset` in chunks of `chunkSize`; returns every answer (the last one carries the record). */
export async function patchAll(url: string, bytes: Buffer, chunkSize: number, offset = 0, headers: http.OutgoingHttpHeaders = {}): Promise<RawResponse[]> {
  const answers: RawResponse[] = [];
  for (let at = offset; at < bytes.length; at += chunkSize) {
    const answer = await patchChunk(url, at, bytes.subarray(at, Math.min(bytes.length, at + chunkSize)), headers);
    answers.push(answer);
    if (answer.status >= 300) break;
  }
  return answers;
}

export function codeOf(response: RawResponse): string | undefined {
  return (response.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Resolves once `path` holds at least `bytes` bytes, waking on the file system's change events. */
export async function waitForFileSize(path: string, bytes: number, timeoutMs = 10_000): Promise<number> {
  const { size } = await waitForPath(path, () => stat(path), (stats) => stats.size >= bytes, (stats) => `${path} held ${stats.size} bytes, never ${bytes}`, timeoutMs);
  return size;
}

/**
 * Sends the first `sendFirst` bytes of `rest` as a PATCH at `offset` (declaring all of `rest`), waits
 * until `stored()` says the store holds some of them, then drops the connection mid-chunk.
 */
export async function patchCutShort(url: string, offset: number, rest: Buffer, sendFirst: number, stored: () => Promise<unknown>): Promise<void> {
  const req = http.request(url, {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': rest.length,
    },
  });
  req.on('error', () => undefined);
  req.write(rest.subarray(0, sendFirst));
  await stored();
  req.destroy();
}
