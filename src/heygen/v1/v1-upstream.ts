import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import type { Secret } from '../../secret';
import type { AssetRecord } from '../asset-record';
import type { Upstream, UpstreamAttempt, UpstreamUpload } from '../upstream';
import { scrubSecret } from '../scrub-secret';
import { UpstreamFailure } from '../upstream-failure';
import { HEYGEN_SUCCESS_CODE, heygenUploadResponseSchema, toAssetRecord } from './v1-response';

/** HeyGen answers with a small JSON envelope; anything larger is not an answer we can use. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Error codes of a connection that failed before HeyGen said anything: safe to retry once. */
const CONNECTION_FAILURE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']);

export interface V1UpstreamOptions {
  readonly uploadUrl: string;
  readonly apiKey: Secret;
  readonly timeoutMs: number;
  readonly onAttempt?: (attempt: UpstreamAttempt) => void;
}

/**
 * The v1 adapter: HeyGen's legacy Upload Asset endpoint (`POST upload.heygen.com/v1/asset`, the file as
 * the raw body, `X-API-KEY`). With the other adapters, the only reader of the API key's value.
 * - `maxRedirects: 0`: the body is never sent anywhere but the configured URL, and axios does not
 *   buffer a streamed body for a possible redirect (follow-redirects would).
 * - axios's own `timeout` is a wall clock up to the response headers, which would cut long uploads;
 *   instead a watchdog aborts when the body stops moving for `timeoutMs`, and when HeyGen takes
 *   longer than `timeoutMs` to answer once the body is sent.
 */
export function createV1Upstream(options: V1UpstreamOptions): Upstream {
  const httpAgent = new http.Agent({ keepAlive: true });
  const httpsAgent = new https.Agent({ keepAlive: true });
  const instance = axios.create({
    maxRedirects: 0,
    // -1, not Infinity: axios pipes a stream body through an extra byte-counting Transform for any
    // finite-or-infinite limit above -1 (one more hop and buffer per chunk); our limits are enforced earlier.
    maxBodyLength: -1,
    maxContentLength: MAX_RESPONSE_BYTES,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    // No proxy from the environment: axios would read HTTP(S)_PROXY/NO_PROXY from process.env on
    // every request (this service reads its environment once, in config.ts, and has no proxy
    // setting), and the key must go to HeyGen and nowhere else.
    proxy: false,
    httpAgent,
    httpsAgent,
  });

  async function send(upload: UpstreamUpload): Promise<AssetRecord> {
    try {
      return await attempt(instance, options, upload);
    } catch (error) {
      if (!(error instanceof UpstreamFailure && error.retryable && upload.replayable)) throw error;
      if (upload.signal?.aborted) throw error;
      return await attempt(instance, options, upload);
    }
  }

  return {
    send: (request) => send(request).catch((error: unknown) => Promise.reject(scrubbed(error, options.apiKey))),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

async function attempt(instance: AxiosInstance, options: V1UpstreamOptions, upload: UpstreamUpload): Promise<AssetRecord> {
  const started = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, options.timeoutMs);
  const onOuterAbort = (): void => controller.abort();
  upload.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (upload.signal?.aborted) controller.abort();

  const body = upload.body();
  if (!Buffer.isBuffer(body)) {
    // While the body moves, HeyGen is reading; once it has all been handed over, the watchdog
    // becomes the deadline for HeyGen's answer.
    let ended = false;
    body.on('data', () => {
      if (!ended) watchdog.refresh();
    });
    body.once('end', () => {
      ended = true;
      watchdog.refresh();
    });
  }

  const report = (outcome: UpstreamAttempt['outcome']): void =>
    options.onAttempt?.({ outcome, seconds: (performance.now() - started) / 1000 });

  try {
    const response = await instance.post<string>(options.uploadUrl, body, {
      headers: {
        'X-API-KEY': options.apiKey.reveal(),
        'Content-Type': upload.mediaType,
        ...(upload.size === undefined ? {} : { 'Content-Length': String(upload.size) }),
      },
      signal: controller.signal,
    });
    const record = readAssetRecord(response.status, response.data);
    report('success');
    return record;
  } catch (error) {
    if (timedOut) {
      report('timeout');
      throw new UpstreamFailure(`no progress or answer from HeyGen within ${options.timeoutMs} ms`, { kind: 'timeout' });
    }
    report('error');
    throw classify(error);
  } finally {
    clearTimeout(watchdog);
    upload.signal?.removeEventListener('abort', onOuterAbort);
    if (!Buffer.isBuffer(body)) body.destroy();
  }
}

function readAssetRecord(status: number, text: string): AssetRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamFailure(`HeyGen answered ${status} with a body that is not JSON`, { upstreamStatus: status });
  }
  const parsed = heygenUploadResponseSchema.safeParse(json);
  if (status < 200 || status > 299) {
    const said = parsed.success ? (parsed.data.message ?? parsed.data.msg ?? '') : '';
    throw new UpstreamFailure(`HeyGen answered ${status}${said ? `: ${said}` : ''}`, { upstreamStatus: status });
  }
  if (!parsed.success) {
    throw new UpstreamFailure(`HeyGen answered ${status} with an unexpected body shape`, { upstreamStatus: status });
  }
  if (parsed.data.code !== HEYGEN_SUCCESS_CODE || !parsed.data.data) {
    const said = parsed.data.message ?? parsed.data.msg ?? '';
    throw new UpstreamFailure(`HeyGen answered code ${parsed.data.code}${said ? `: ${said}` : ''}`, {
      upstreamStatus: status,
    });
  }
  return toAssetRecord(parsed.data.data);
}

/** Names a failed exchange; `retryable` only for a connection that failed before any response. */
function classify(error: unknown): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (isAxiosError(error)) {
    const code = error.code ?? '';
    const retryable = error.response === undefined && CONNECTION_FAILURE_CODES.has(code);
    return new UpstreamFailure(`HeyGen connection failed: ${code || error.message}`, { retryable, cause: error });
  }
  return new UpstreamFailure(`HeyGen exchange failed: ${String(error)}`, { cause: error });
}

/** What HeyGen said is kept for the log only, with the key scrubbed out; the cause (axios's error, request headers and all) is dropped. */
function scrubbed(error: unknown, apiKey: Secret): UpstreamFailure {
  const failure = classify(error);
  return new UpstreamFailure(scrub(failure.message, apiKey), {
    kind: failure.kind,
    retryable: failure.retryable,
    upstreamStatus: failure.upstreamStatus,
  });
}

function scrub(text: string, apiKey: Secret): string {
  return scrubSecret(text, apiKey).slice(0, 300);
}
