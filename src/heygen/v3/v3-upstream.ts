import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Secret } from '../../secret';
import type { UpstreamAsset } from '../asset-record';
import { type ExchangeResponse, HeygenHttp, retryAfterSeconds } from '../heygen-http';
import { withRetries } from '../retries';
import { scrubSecret, withSecretScrubbed } from '../scrub-secret';
import type { SizedUpload, Upstream, UpstreamAttempt, UpstreamUpload } from '../upstream';
import { UpstreamFailure } from '../upstream-failure';
import { v3AssetSchema, v3DirectUploadSchema, v3ErrorSchema } from './v3-response';

/**
 * `POST /v3/assets` takes at most 32 MB. Whether HeyGen means 10^6 or 2^20 is not documented, so the
 * proxy stays under the smaller reading; anything larger goes by direct upload.
 */
export const V3_MULTIPART_MAX_BYTES = 32_000_000;

/**
 * Retries. Every creating call carries an Idempotency-Key, so a resend after a connection that failed
 * before any answer, a 5xx or HeyGen's own 409 ("request in progress", or complete's "uploaded object
 * not found yet") never makes a second asset. A timeout is not retried: it has already spent
 * UPSTREAM_TIMEOUT_MS, and the client's own retry (same Idempotency-Key, same key at HeyGen) is safe.
 * - creating calls and the storage PUT: up to 3 attempts, 250 ms × attempt apart;
 * - complete: up to 5 attempts, 500 ms × attempt apart (HeyGen's CLI's policy for the 409 race).
 */
const ATTEMPTS = 3;
const BACKOFF_MS = 250;
const COMPLETE_ATTEMPTS = 5;
const COMPLETE_BACKOFF_MS = 500;

export interface V3UpstreamOptions {
  /** HeyGen's API host, e.g. https://api.heygen.com; the v3 routes are built on it. */
  readonly baseUrl: string;
  readonly apiKey: Secret;
  readonly timeoutMs: number;
  readonly onAttempt?: (attempt: UpstreamAttempt) => void;
}

/**
 * The v3 adapter: files up to 32 MB as `multipart/form-data` to `POST /v3/assets`; larger ones by
 * direct upload (create, PUT the bytes to HeyGen's presigned storage URL, complete), which needs the
 * size and checksum first, so only a sized upload can go that way. HeyGen's key goes
 * in `x-api-key` to HeyGen's own API only; the storage PUT carries exactly the headers HeyGen
 * prescribed for it, and never a credential of ours.
 */
export function createV3Upstream(options: V3UpstreamOptions): Upstream {
  const http = new HeygenHttp({ timeoutMs: options.timeoutMs, onAttempt: options.onAttempt });
  const base = options.baseUrl.replace(/\/+$/, '');
  const apiHeaders = (idempotencyKey?: string): Record<string, string> => ({
    'x-api-key': options.apiKey.reveal(),
    Accept: 'application/json',
    ...(idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey }),
  });

  async function multipart(upload: UpstreamUpload): Promise<UpstreamAsset> {
    // randomUUID draws on a cache Node refills every 128 calls; randomBytes made a getrandom call per
    // upload (1.4% of a small upload's CPU in the v3-small profile). 122 random bits are plenty for a
    // boundary that must not occur in the file.
    const boundary = `----heygen-upload-proxy-${randomUUID()}`;
    const preamble = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; ${filenameParameter(upload.filename)}\r\n` +
        `Content-Type: ${upload.mediaType}\r\n\r\n`,
    );
    const epilogue = Buffer.from(`\r\n--${boundary}--\r\n`);
    const sized = upload.delivery === 'sized';
    const signal = sized ? undefined : upload.signal;
    const response = await withRetries(sized ? ATTEMPTS : 1, BACKOFF_MS, signal, () =>
      http
        .exchange({
          method: 'POST',
          url: `${base}/v3/assets`,
          headers: {
            ...apiHeaders(upload.idempotencyKey),
            'Content-Type': `multipart/form-data; boundary=${boundary}`,
            ...(sized ? { 'Content-Length': String(preamble.length + upload.size + epilogue.length) } : {}),
          },
          body: framed(preamble, sized ? upload.open() : upload.body, epilogue),
          ...(signal === undefined ? {} : { signal }),
        })
        .then((response) => accepted(response, 'create')),
    );
    return assetFrom(response, upload.mediaKind);
  }

  async function directUpload(upload: SizedUpload): Promise<UpstreamAsset> {
    const { size } = upload;
    const checksum = await upload.checksum();
    const created = await withRetries(ATTEMPTS, BACKOFF_MS, undefined, () =>
      http
        .exchange({
          method: 'POST',
          url: `${base}/v3/assets/direct-uploads`,
          headers: { ...apiHeaders(upload.idempotencyKey), 'Content-Type': 'application/json' },
          body: JSON.stringify({ filename: upload.filename, content_type: upload.mediaType, size_bytes: size, checksum_sha256: checksum }),
        })
        .then((response) => accepted(response, 'create')),
    );
    const target = parse(v3DirectUploadSchema, created, 'direct upload').data;
    // The file goes to storage in the clear only when HeyGen itself is reached in the clear (a stand-in on loopback).
    if (!target.upload_url.startsWith('https:') && !base.startsWith('http:')) {
      throw new UpstreamFailure('HeyGen answered a direct upload with a storage URL that is not https');
    }
    if (target.max_bytes != null && size > target.max_bytes) {
      throw new UpstreamFailure(`HeyGen takes direct uploads of at most ${target.max_bytes} bytes; this file has ${size}`, { kind: 'too-large' });
    }
    await withRetries(ATTEMPTS, BACKOFF_MS, undefined, () =>
      http
        .exchange({
          method: 'PUT',
          url: target.upload_url,
          headers: storageHeaders(upload.mediaType, size, target.upload_headers ?? {}, options.apiKey),
          body: upload.open(),
        })
        .then((response) => accepted(response, 'storage')),
    );
    const completed = await withRetries(COMPLETE_ATTEMPTS, COMPLETE_BACKOFF_MS, undefined, () =>
      http
        .exchange({
          method: 'POST',
          url: `${base}/v3/assets/${encodeURIComponent(target.asset_id)}/complete`,
          headers: { ...apiHeaders(), 'Content-Type': 'application/json' },
          body: JSON.stringify({ checksum_sha256: checksum }),
        })
        .then((response) => accepted(response, 'complete')),
    );
    return assetFrom(completed, upload.mediaKind);
  }

  const send = (upload: UpstreamUpload): Promise<UpstreamAsset> =>
    upload.delivery === 'sized' && upload.size > V3_MULTIPART_MAX_BYTES ? directUpload(upload) : multipart(upload);

  return {
    maxStreamedBytes: V3_MULTIPART_MAX_BYTES,
    send: withSecretScrubbed(options.apiKey, send),
    close: () => http.close(),
  };
}

/**
 * The multipart body around the file's bytes: one buffer when the file is in memory, else a stream
 * that passes the file's chunks through as they come (never assembled in memory).
 */
function framed(preamble: Buffer, file: Buffer | Readable, epilogue: Buffer): Buffer | Readable {
  if (Buffer.isBuffer(file)) return Buffer.concat([preamble, file, epilogue]);
  const body = Readable.from(
    (async function* () {
      yield preamble;
      for await (const chunk of file) yield chunk as Buffer;
      yield epilogue;
    })(),
    { objectMode: false },
  );
  // A body destroyed before it was read never ran the loop that would have closed the file.
  body.once('close', () => file.destroy());
  return body;
}

/**
 * The name as browsers send it (WHATWG's multipart/form-data encoding): UTF-8 in a quoted `filename`,
 * with only `"`, CR and LF percent-escaped. No `filename*`: RFC 7578 §4.2 says it MUST NOT be used in
 * multipart/form-data. (safeFileName has already removed quotes, controls and backslashes.)
 */
function filenameParameter(name: string): string {
  return `filename="${name.replace(/["\r\n]/g, (character) => FORM_DATA_ESCAPES[character] ?? character)}"`;
}

const FORM_DATA_ESCAPES: Readonly<Record<string, string>> = { '"': '%22', '\r': '%0D', '\n': '%0A' };

/**
 * The storage PUT's headers: the declared type and exact length, then every header HeyGen prescribed,
 * verbatim (they are part of the signature). Nothing of ours that authenticates goes along, and a
 * prescribed header that would carry our key is refused rather than sent.
 */
function storageHeaders(mediaType: string, size: number, prescribed: Readonly<Record<string, string>>, apiKey: Secret): Record<string, string> {
  const headers: Record<string, string> = { 'Content-Type': mediaType, 'Content-Length': String(size) };
  for (const [name, value] of Object.entries(prescribed)) {
    const lower = name.toLowerCase();
    if (lower === 'x-api-key' || lower === 'authorization' || scrubSecret(value, apiKey) !== value) {
      throw new UpstreamFailure(`HeyGen prescribed a credential header (${name}) for its storage upload; refused`);
    }
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === lower) delete headers[existing];
    headers[name] = value;
  }
  return headers;
}

type ApiCall = 'create' | 'complete';

/** A 2xx passes; anything else becomes the kind of failure it is. */
function accepted(response: ExchangeResponse, from: ApiCall | 'storage'): ExchangeResponse {
  if (response.status >= 200 && response.status < 300) return response;
  throw from === 'storage' ? storageRefusal(response) : apiRefusal(response, from);
}

function apiRefusal(response: ExchangeResponse, call: ApiCall): UpstreamFailure {
  const { status } = response;
  const envelope = v3ErrorSchema.safeParse(safeJson(response.text));
  const code = envelope.success ? envelope.data.error.code : undefined;
  const said = envelope.success ? (envelope.data.error.message ?? '') : '';
  const words = `HeyGen answered ${status}${code === undefined ? '' : ` ${code}`}${said ? `: ${said}` : ''}`;
  const base = { upstreamStatus: status } as const;
  if (status === 429) return new UpstreamFailure(words, { ...base, kind: 'rate-limited', retryAfterSeconds: retryAfterSeconds(response.header('retry-after')) });
  if (status === 401) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'key_invalid' });
  if (status === 402) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'insufficient_credit' });
  if (status === 403) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'forbidden' });
  if (status === 413) return new UpstreamFailure(words, { ...base, kind: 'too-large' });
  if (status === 400 && code === 'invalid_parameter') {
    // A size over HeyGen's direct-upload cap is refused at create, naming the size: a smaller file would go.
    const param = envelope.success ? envelope.data.error.param : undefined;
    return new UpstreamFailure(words, { ...base, kind: param === 'size_bytes' ? 'too-large' : 'rejected-file' });
  }
  // HeyGen is still working on the same Idempotency-Key (or, for complete, its storage has not caught
  // up yet), or failed on its side: a resend is safe. Any other 409 is a lasting conflict.
  if ((status === 409 && (code === 'request_in_progress' || call === 'complete')) || status >= 500) {
    return new UpstreamFailure(words, { ...base, retryable: true });
  }
  return new UpstreamFailure(words, base);
}

function storageRefusal(response: ExchangeResponse): UpstreamFailure {
  const { status } = response;
  const code = /<Code>([^<]{1,64})<\/Code>/.exec(response.text)?.[1];
  return new UpstreamFailure(`HeyGen's storage answered ${status}${code ? ` ${code}` : ''}`, { upstreamStatus: status, retryable: status >= 500 });
}

function assetFrom(response: ExchangeResponse, fileType: UpstreamAsset['file_type']): UpstreamAsset {
  const { data } = parse(v3AssetSchema, response, 'asset');
  return { id: data.asset_id, file_type: fileType, url: data.url, image_key: null, created_ts: null };
}

function parse<T>(schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }, response: ExchangeResponse, what: string): T {
  const parsed = schema.safeParse(safeJson(response.text));
  if (!parsed.success) throw new UpstreamFailure(`HeyGen answered ${response.status} with a ${what} that fails its checks`, { upstreamStatus: response.status });
  return parsed.data;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
