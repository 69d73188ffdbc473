import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';
import { RATE_LIMIT_STORE_TIMEOUT_MS as PRIMARY_TIMEOUT_MS } from '../upload/limits';
import { withTimeout } from '../with-timeout';

/**
 * The shared (Redis) store while it answers, a per-replica memory store while it does not. Neither
 * fail-open (an outage would lift every limit on a paid quota) nor fail-closed (an outage would stop
 * every upload): the budget stays in force per replica until Redis is back.
 */
export class FallbackRateLimitStore implements Store {
  readonly localKeys = false;
  readonly #primary: Store;
  readonly #fallback: Store;
  readonly #primaryUsable: () => boolean;
  readonly #onFallback: (error: unknown) => void;

  constructor(primary: Store, fallback: Store, primaryUsable: () => boolean, onFallback: (error: unknown) => void) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#primaryUsable = primaryUsable;
    this.#onFallback = onFallback;
  }

  async init(options: Options): Promise<void> {
    await this.#fallback.init?.(options);
    await this.#primary.init?.(options);
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.#either((store) => store.increment(key));
  }

  decrement(key: string): Promise<void> {
    return this.#either((store) => store.decrement(key));
  }

  resetKey(key: string): Promise<void> {
    return this.#either((store) => store.resetKey(key));
  }

  async #either<T>(call: (store: Store) => Promise<T> | T): Promise<T> {
    if (this.#primaryUsable()) {
      try {
        return await withTimeout(
          Promise.resolve(call(this.#primary)),
          PRIMARY_TIMEOUT_MS,
          `rate-limit store did not answer within ${PRIMARY_TIMEOUT_MS} ms`,
        );
      } catch (error) {
        this.#onFallback(error);
      }
    }
    return call(this.#fallback);
  }
}
