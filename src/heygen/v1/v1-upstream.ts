import type { Secret } from '../../secret';
import type { UpstreamAsset } from '../asset-record';
import { type ExchangeResponse, HeygenHttp, retryAfterSeconds } from '../heygen-http';
import { withRetries } from '../retries';
import { withSecretScrubbed } from '../scrub-secret';
import type { Upstream, UpstreamAttempt, UpstreamUpload } from '../upstream';
import { UpstreamFailure } from '../upstream-failure';
import {
  HEYGEN_SUCCESS_CODE,
  toUpstreamAsset,
  V1_FILE_REFUSAL_CODES,
  V1_KEY_REFUSAL_CODES,
  v1AssetSchema,
  v1EnvelopeSchema,
} from './v1-response';

export interface V1UpstreamOptions {
  readonly uploadUrl: string;
  readonly apiKey: Secret;
  readonly timeoutMs: number;
  readonly onAttempt?: (attempt: UpstreamAttempt) => void;
}

/**
 * v1 has no Idempotency-Key, so only a connection that failed before any answer is retried (it cannot
 * have created an asset), once, at once: anything later might have. A streamed body cannot be resent.
 */
const SIZED_ATTEMPTS = 2;
const RETRY_BACKOFF_MS = 0;

/**
 * The v1 adapter: HeyGen's legacy Upload Asset endpoint (`POST upload.heygen.com/v1/asset`, the file as
 * the raw body, `X-API-KEY`). With the other adapters, the only reader of the API key's value. A sized
 * upload goes with its Content-Length, a streamed one chunked.
 */
export function createV1Upstream(options: V1UpstreamOptions): Upstream {
  const http = new HeygenHttp({ timeoutMs: options.timeoutMs, onAttempt: options.onAttempt });

  const attempt = async (upload: UpstreamUpload): Promise<UpstreamAsset> => {
    const sized = upload.delivery === 'sized';
    const response = await http.exchange({
      method: 'POST',
      url: options.uploadUrl,
      headers: {
        'X-API-KEY': options.apiKey.reveal(),
        'Content-Type': upload.mediaType,
        ...(sized ? { 'Content-Length': String(upload.size) } : {}),
      },
      body: sized ? upload.open() : upload.body,
      ...(sized ? {} : { signal: upload.signal }),
    });
    return readAsset(response);
  };

  const send = (upload: UpstreamUpload): Promise<UpstreamAsset> =>
    upload.delivery === 'sized'
      ? withRetries(SIZED_ATTEMPTS, RETRY_BACKOFF_MS, undefined, () => attempt(upload))
      : attempt(upload);

  return {
    maxStreamedBytes: Number.POSITIVE_INFINITY,
    send: withSecretScrubbed(options.apiKey, send),
    close: () => http.close(),
  };
}

function readAsset(response: ExchangeResponse): UpstreamAsset {
  const { status, text } = response;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw refusal(response, undefined, `HeyGen answered ${status} with a body that is not JSON`);
  }
  const envelope = v1EnvelopeSchema.safeParse(json);
  const code = envelope.success ? envelope.data.code : undefined;
  const said = envelope.success ? (envelope.data.message ?? envelope.data.msg ?? '') : '';
  const words = `HeyGen answered ${status}${code === undefined ? '' : ` code ${code}`}${said ? `: ${said}` : ''}`;
  if (status < 200 || status > 299 || code !== HEYGEN_SUCCESS_CODE) throw refusal(response, code, words);
  const asset = v1AssetSchema.safeParse(envelope.data?.data);
  if (!asset.success) throw new UpstreamFailure(`HeyGen answered ${status} with an asset record that fails its checks`, { upstreamStatus: status });
  return toUpstreamAsset(asset.data);
}

/** A v1 refusal as the kind of failure it is, so the client learns what to do next. */
function refusal(response: ExchangeResponse, code: number | undefined, words: string): UpstreamFailure {
  const { status } = response;
  const base = { upstreamStatus: status } as const;
  if (status === 429) return new UpstreamFailure(words, { ...base, kind: 'rate-limited', retryAfterSeconds: retryAfterSeconds(response.header('retry-after')) });
  if (status === 401 || (code !== undefined && V1_KEY_REFUSAL_CODES.has(code))) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'key_invalid' });
  if (status === 402) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'insufficient_credit' });
  if (status === 403) return new UpstreamFailure(words, { ...base, kind: 'credentials', reason: 'forbidden' });
  if (code !== undefined && V1_FILE_REFUSAL_CODES.has(code)) return new UpstreamFailure(words, { ...base, kind: 'rejected-file' });
  if (status === 413) return new UpstreamFailure(words, { ...base, kind: 'too-large' });
  return new UpstreamFailure(words, base);
}
