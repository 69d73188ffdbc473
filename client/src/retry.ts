import { cancelledError, isUploadError, type UploadError, type UploadErrorCode } from './upload-error';

export interface RetryOptions {
  /**
   * The wait before each retry, in milliseconds; its length is the number of retries. A Retry-After
   * longer than the entry is waited instead. Default [500, 1000, 2000, 4000, 8000].
   */
  readonly retryDelaysMs?: readonly number[];
  /**
   * The longest Retry-After worth waiting for, in milliseconds (default 30 000): a rate limit whose
   * window ends a minute later is the person's to wait out, so it is surfaced (RATE_LIMITED, with
   * `retryAfterSeconds`) rather than hung on.
   */
  readonly maxRetryAfterMs?: number;
  /**
   * Called before each wait for a retry, with the failure that caused it and the wait, so a page can
   * say "reconnecting…" while the upload goes on by itself.
   */
  readonly onRetry?: (retry: RetryNotice) => void;
}

export interface RetryNotice {
  /** The failure being retried (a network error, a 429 or 503 with Retry-After, ...). */
  readonly error: UploadError;
  /** The wait before the next attempt, in milliseconds. */
  readonly delayMs: number;
  /** 1 for the first retry of this failure in a row. */
  readonly attempt: number;
}

export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000, 8000];
export const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/**
 * Answers that say "the same request may succeed later": the proxy sends Retry-After with each when it
 * knows how long (busy, rate limited). Any other 4xx is a refusal of this file or request and is never
 * resent.
 */
const RETRY_AFTER_CODES: ReadonlySet<UploadErrorCode> = new Set([
  'RATE_LIMITED',
  'TOO_MANY_UPLOADS_IN_PROGRESS',
  'SERVER_BUSY',
  'SHUTTING_DOWN',
  'UPSTREAM_BUSY',
  'RATE_LIMIT_UNAVAILABLE',
  'IDEMPOTENCY_UNAVAILABLE',
  'RESUMABLE_UNAVAILABLE',
  'NOT_READY',
]);

/**
 * Whether `error` may be retried: no answer at all (the Idempotency-Key or the tus offset makes a
 * resend safe), or a 429/503 that says when to come back. `extra` are codes a path knows to be safe
 * to resend (e.g. IDEMPOTENCY_CONFLICT for the multipart path: the first attempt is still running).
 */
export function isRetryable(error: UploadError, extra: ReadonlySet<UploadErrorCode> = new Set()): boolean {
  if (error.code === 'NETWORK_ERROR') return true;
  if (extra.has(error.code)) return true;
  return (error.status === 429 || error.status === 503) && RETRY_AFTER_CODES.has(error.code) && error.retryAfterSeconds !== null;
}

/** How long to wait before retry number `attempt` (0-based), or null when it should not be made. */
export function retryDelayMs(error: UploadError, attempt: number, options: RetryOptions): number | null {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  const base = delays[attempt];
  if (base === undefined) return null;
  if (error.retryAfterSeconds === null) return base;
  const asked = error.retryAfterSeconds * 1000;
  if (asked > (options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS)) return null;
  return Math.max(base, asked);
}

/** Waits `ms`, or rejects with CANCELLED as soon as the signal fires. */
export function wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(cancelledError());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(cancelledError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `call` until it succeeds, fails in a way that may not be retried, or the retries run out. */
export async function withRetries<T>(
  call: () => Promise<T>,
  options: RetryOptions & { readonly signal?: AbortSignal | undefined },
  extra?: ReadonlySet<UploadErrorCode>,
): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!isUploadError(error) || !isRetryable(error, extra)) throw error;
      const delay = retryDelayMs(error, attempt, options);
      if (delay === null) throw error;
      options.onRetry?.({ error, delayMs: delay, attempt: attempt + 1 });
      await wait(delay, options.signal);
    }
  }
}
