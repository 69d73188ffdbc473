import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { whenUploadEnds } from './when-upload-ends';

/** Seconds a client refused by a full gate should wait: uploads finish in seconds, not minutes. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/**
 * Caps uploads in progress at once (MAX_CONCURRENT_UPLOADS); past the cap a request gets 503 at once,
 * before its body is read. It also tells graceful shutdown when the last upload has finished.
 */
export class ConcurrencyGate {
  readonly #capacity: number;
  #active = 0;
  #idleWaiters: Array<() => void> = [];

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get active(): number {
    return this.#active;
  }

  middleware(): RequestHandler {
    return (_req, res, next) => {
      if (this.#active >= this.#capacity) {
        next(new ApiError('SERVER_BUSY', undefined, { headers: { 'Retry-After': String(BUSY_RETRY_AFTER_SECONDS) } }));
        return;
      }
      this.#active += 1;
      // Given back once the response has closed and the upload's own work is over, on every path.
      whenUploadEnds(res, () => this.#leave());
      next();
    };
  }

  /** Resolves when no upload is in progress. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #leave(): void {
    this.#active -= 1;
    if (this.#active === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
