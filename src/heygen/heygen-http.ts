import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import axios, { isAxiosError } from 'axios';
import type { UpstreamAttempt } from './upstream';
import { UpstreamFailure } from './upstream-failure';

/** HeyGen answers with a small JSON envelope; anything larger is not an answer we can use. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The TCP keep-alive delay axios's http adapter puts on each request's socket. */
const AXIOS_KEEP_ALIVE_MS = 60_000;

/** Error codes of a connection that failed before the other side said anything. */
const CONNECTION_FAILURE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH']);

export interface Exchange {
  readonly method: 'POST' | 'PUT';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer | Readable | string;
  /** Aborts the exchange, e.g. when the client goes away or breaks a limit mid-stream. */
  readonly signal?: AbortSignal;
}

export interface ExchangeResponse {
  readonly status: number;
  readonly text: string;
  header(name: string): string | undefined;
}

export interface HeygenHttpOptions {
  /** Inactivity while the body is sent, and then the deadline for the answer. */
  readonly timeoutMs: number;
  readonly onAttempt?: (attempt: UpstreamAttempt) => void;
}

/**
 * HTTP to HeyGen (and, for v3's direct upload, to its presigned storage) for the adapters: one axios
 * instance with keep-alive agents, and one exchange at a time with a watchdog. Headers are per call:
 * nothing here adds a credential, so a call to storage carries only what its caller put on it.
 * - `maxRedirects: 0`: a body is never sent anywhere but the URL it was meant for, and axios does not
 *   buffer a streamed body for a possible redirect (follow-redirects would).
 * - axios's own `timeout` is a wall clock up to the response headers, which would cut long uploads;
 *   instead the watchdog aborts when the body stops moving for `timeoutMs`, and when the answer takes
 *   longer than `timeoutMs` once the body is sent.
 */
export class HeygenHttp {
  readonly #options: HeygenHttpOptions;
  // axios sets TCP keep-alive to 60 s on every request's socket; the agent resets it to its own
  // keepAliveMsecs each time the socket is freed. Two different values would cost two setsockopt calls
  // per request, a visible share of a small upload's CPU; the same value makes both no-ops.
  readonly #httpAgent = new http.Agent({ keepAlive: true, keepAliveMsecs: AXIOS_KEEP_ALIVE_MS });
  readonly #httpsAgent = new https.Agent({ keepAlive: true, keepAliveMsecs: AXIOS_KEEP_ALIVE_MS });
  readonly #instance;

  constructor(options: HeygenHttpOptions) {
    this.#options = options;
    this.#instance = axios.create({
      maxRedirects: 0,
      // -1, not Infinity: axios pipes a stream body through an extra byte-counting Transform for any
      // limit above -1 (one more hop and buffer per chunk); our limits are enforced earlier.
      maxBodyLength: -1,
      maxContentLength: MAX_RESPONSE_BYTES,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      // No proxy from the environment: axios would read HTTP(S)_PROXY/NO_PROXY from process.env on
      // every request (this service reads its environment once, in config.ts, and has no proxy
      // setting), and the key must go to HeyGen and nowhere else.
      proxy: false,
      httpAgent: this.#httpAgent,
      httpsAgent: this.#httpsAgent,
    });
  }

  /** Resolves with any answer HeyGen gives; rejects with an UpstreamFailure ('timeout', or 'failed' for a connection failure). */
  async exchange(request: Exchange): Promise<ExchangeResponse> {
    const { timeoutMs } = this.#options;
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onOuterAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (request.signal?.aborted) controller.abort();

    const { body } = request;
    const streamed = body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
    if (streamed) {
      // While the body moves, the other side is reading; once it has all been handed over, the
      // watchdog becomes the deadline for the answer.
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
      this.#options.onAttempt?.({ outcome, seconds: (performance.now() - started) / 1000 });

    try {
      const response = await this.#instance.request<string>({
        method: request.method,
        url: request.url,
        data: body,
        headers: request.headers,
        signal: controller.signal,
      });
      report(response.status >= 200 && response.status < 300 ? 'success' : 'error');
      return {
        status: response.status,
        text: response.data,
        header: (name) => {
          const value: unknown = response.headers[name.toLowerCase()];
          return typeof value === 'string' ? value : undefined;
        },
      };
    } catch (error) {
      if (timedOut) {
        report('timeout');
        throw new UpstreamFailure(`no progress or answer from ${hostOf(request.url)} within ${timeoutMs} ms`, { kind: 'timeout' });
      }
      report('error');
      throw connectionFailure(error, request.url);
    } finally {
      clearTimeout(watchdog);
      request.signal?.removeEventListener('abort', onOuterAbort);
      if (streamed) body.destroy();
    }
  }

  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }
}

/** `retryable` only for a connection that failed before any response: it cannot have created anything. */
function connectionFailure(error: unknown, url: string): UpstreamFailure {
  if (error instanceof UpstreamFailure) return error;
  if (isAxiosError(error)) {
    const code = error.code ?? '';
    const retryable = error.response === undefined && CONNECTION_FAILURE_CODES.has(code);
    return new UpstreamFailure(`${hostOf(url)} connection failed: ${code || error.message}`, { retryable });
  }
  return new UpstreamFailure(`${hostOf(url)} exchange failed: ${String(error)}`);
}

function hostOf(url: string): string {
  return URL.canParse(url) ? new URL(url).host : 'HeyGen';
}

/** HeyGen's Retry-After in seconds (a number or an HTTP date), bounded to what a client can act on. */
export function retryAfterSeconds(header: string | undefined): number {
  const MIN = 1;
  const MAX = 300;
  if (header === undefined) return MIN;
  const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
  if (!Number.isFinite(seconds)) return MIN;
  return Math.min(MAX, Math.max(MIN, Math.ceil(seconds)));
}
