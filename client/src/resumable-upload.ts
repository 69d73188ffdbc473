import { errorFromResponse, jsonBody, send } from './http-request';
import type { AssetRecord } from './multipart-upload';
import { fingerprint, type ResumeStore } from './resume-store';
import { isRetryable, retryDelayMs, type RetryOptions, wait } from './retry';
import { isUploadError, type UploadErrorCode } from './upload-error';
import type { UploadProgress } from './upload-options';

export interface ResumableRequest extends RetryOptions {
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly chunkSize: number;
  readonly resumeStore: ResumeStore | null;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: UploadProgress) => void;
  /** New headers (a new upload token) for when the proxy refuses the token partway (401). */
  readonly renewHeaders?: () => Promise<Record<string, string>>;
}

const TUS = { 'Tus-Resumable': '1.0.0' } as const;

/**
 * After these the upload is still there and its offset says where to go on: another request held its
 * lock (423), or a lost answer left the client behind the server's offset (409).
 */
const RESUMABLE_RETRYABLE: ReadonlySet<UploadErrorCode> = new Set(['UPLOAD_LOCKED', 'OFFSET_MISMATCH']);

/** Answers that mean the stored URL is of no use: start a new upload. */
const GONE_CODES: ReadonlySet<UploadErrorCode> = new Set(['UPLOAD_NOT_FOUND', 'UPLOAD_EXPIRED']);

/**
 * The tus 1.0.0 protocol against /v1/uploads: create (or find the stored URL of an earlier attempt
 * at the same file and ask its offset), then PATCH chunks. After a failure that may be retried the
 * client waits, asks the server's offset (HEAD) and goes on from there, so no byte the server holds is
 * sent twice. The last PATCH answers the asset record; if that answer is lost, an empty PATCH at the
 * full length gets the same record again (the proxy forwards once).
 */
export async function uploadResumable(file: File, first: ResumableRequest): Promise<AssetRecord> {
  let request = first;
  const endpoint = `${request.baseUrl}/v1/uploads`;
  const key = fingerprint(file, endpoint);
  const store = request.resumeStore;
  let url = store?.get(key) ?? null;
  let offset: number | null = null;
  // Failures in a row: each confirmed chunk resets it, so a long upload over a flaky network is not
  // cut short by a budget meant for a server that stays down.
  let failures = 0;
  // A token is renewed once per refusal; a new one refused before any byte was confirmed ends the upload.
  let renewed = false;
  for (;;) {
    try {
      if (url !== null && offset === null) {
        offset = await askOffset(url, request);
        if (offset === null) {
          store?.remove(key);
          url = null;
        }
      }
      if (url === null) {
        url = await create(file, endpoint, request);
        store?.set(key, url);
        offset = 0;
      }
      const record = await sendFrom(file, url, offset ?? 0, request, (confirmed) => {
        offset = confirmed;
        failures = 0;
        renewed = false;
      });
      store?.remove(key);
      return record;
    } catch (error) {
      if (!isUploadError(error)) throw error;
      if (error.code === 'CANCELLED') {
        if (url !== null) await terminate(url, request, key);
        throw error;
      }
      if (error.code === 'UNAUTHORIZED' && request.renewHeaders !== undefined && !renewed) {
        // The token expired (or was rotated) during the upload: a new one, then the server's offset.
        renewed = true;
        request = { ...request, headers: await request.renewHeaders() };
        offset = null;
        continue;
      }
      if (!isRetryable(error, RESUMABLE_RETRYABLE)) throw error;
      const delay = retryDelayMs(error, failures, request);
      if (delay === null) throw error;
      failures += 1;
      request.onRetry?.({ error, delayMs: delay, attempt: failures });
      await wait(delay, request.signal).catch(async (cancelled: unknown) => {
        if (url !== null) await terminate(url, request, key);
        throw cancelled;
      });
      // Whatever the failure, the server's offset is the truth now.
      offset = null;
    }
  }
}

function options(request: ResumableRequest): { signal?: AbortSignal } {
  return request.signal ? { signal: request.signal } : {};
}

/** Base64 of UTF-8, as tus metadata values are written. */
function metadataValue(value: string): string {
  return btoa(Array.from(new TextEncoder().encode(value), (byte) => String.fromCharCode(byte)).join(''));
}

async function create(file: File, endpoint: string, request: ResumableRequest): Promise<string> {
  const metadata = [`filename ${metadataValue(file.name)}`, ...(file.type ? [`filetype ${metadataValue(file.type)}`] : [])].join(',');
  const response = await send({
    method: 'POST',
    url: endpoint,
    headers: { ...request.headers, ...TUS, 'Upload-Length': String(file.size), 'Upload-Metadata': metadata },
    ...options(request),
  });
  const location = response.header('Location');
  if (response.status !== 201 || location === null) throw errorFromResponse(response);
  return new URL(location, endpoint).href;
}

/** The server's offset for `url`, or null when the upload is gone (expired, removed, never there). */
async function askOffset(url: string, request: ResumableRequest): Promise<number | null> {
  const response = await send({ method: 'HEAD', url, headers: { ...request.headers, ...TUS, 'Cache-Control': 'no-store' }, ...options(request) });
  if (response.status === 404 || response.status === 410) return null;
  if (response.status !== 200 && response.status !== 204) throw errorFromResponse(response);
  const offset = Number(response.header('Upload-Offset'));
  if (!Number.isInteger(offset) || offset < 0) throw errorFromResponse(response);
  return offset;
}

async function sendFrom(file: File, url: string, start: number, request: ResumableRequest, confirmed: (offset: number) => void): Promise<AssetRecord> {
  let offset = start;
  for (;;) {
    const end = Math.min(file.size, offset + request.chunkSize);
    const base = offset;
    const report = request.onProgress;
    const response = await send({
      method: 'PATCH',
      url,
      headers: { ...request.headers, ...TUS, 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      // An empty body at the full length asks for the record again (a lost last answer, or a forward to retry).
      body: file.slice(offset, end),
      ...options(request),
      ...(report ? { onUploadProgress: (loaded: number) => report({ loaded: Math.min(file.size, base + loaded), total: file.size, method: 'resumable' }) } : {}),
    });
    if (response.status === 200) return jsonBody<AssetRecord>(response);
    if (response.status !== 204) {
      const error = errorFromResponse(response);
      if (GONE_CODES.has(error.code)) request.resumeStore?.remove(fingerprint(file, `${request.baseUrl}/v1/uploads`));
      throw error;
    }
    const next = Number(response.header('Upload-Offset'));
    if (!Number.isInteger(next) || next <= offset) throw errorFromResponse(response);
    offset = next;
    confirmed(offset);
  }
}

/**
 * Cancelling ends the upload on the server too (DELETE: its bytes and room are given back) and
 * forgets its URL. Best effort, with no signal: the caller's has fired, and a failure here changes
 * nothing for the caller, whose upload is cancelled either way.
 */
async function terminate(url: string, request: ResumableRequest, key: string): Promise<void> {
  request.resumeStore?.remove(key);
  try {
    await send({ method: 'DELETE', url, headers: { ...request.headers, ...TUS } });
  } catch {
    // The proxy expires unfinished uploads itself.
  }
}
