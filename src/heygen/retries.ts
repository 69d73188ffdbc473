import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamFailure } from './upstream-failure';

/**
 * Runs `call` up to `attempts` times while it fails with a retryable UpstreamFailure, waiting
 * `backoffMs` × attempt between tries; stops at once when `signal` aborts. The last failure is the answer.
 */
export async function withRetries<T>(attempts: number, backoffMs: number, signal: AbortSignal | undefined, call: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call(attempt);
    } catch (error) {
      const retryable = error instanceof UpstreamFailure && error.retryable;
      if (!retryable || attempt >= attempts || signal?.aborted) throw error;
      // An abort during the wait ends it early; the failure that led here is still the answer.
      await sleep(backoffMs * attempt, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      if (signal?.aborted) throw error;
    }
  }
}
