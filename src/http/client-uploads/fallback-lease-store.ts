import { RATE_LIMIT_STORE_TIMEOUT_MS as PRIMARY_TIMEOUT_MS } from '../../upload/limits';
import { withTimeout } from '../../with-timeout';
import type { UploadLease, UploadLeaseStore } from './upload-lease-store';

/**
 * The shared (Redis) count while it answers, this replica's own while it does not, as the rate
 * limiter's FallbackRateLimitStore does and for the same reasons: failing open would lift the cap in
 * an outage, failing closed would stop every upload. While Redis is down each replica caps a client
 * at MAX_UPLOADS_PER_CLIENT on its own. A lease is given back to the store that granted it.
 */
export class FallbackUploadLeaseStore implements UploadLeaseStore {
  readonly #primary: UploadLeaseStore;
  readonly #fallback: UploadLeaseStore;
  readonly #primaryUsable: () => boolean;
  readonly #onFallback: (error: unknown) => void;

  constructor(primary: UploadLeaseStore, fallback: UploadLeaseStore, primaryUsable: () => boolean, onFallback: (error: unknown) => void) {
    this.#primary = primary;
    this.#fallback = fallback;
    this.#primaryUsable = primaryUsable;
    this.#onFallback = onFallback;
  }

  async acquire(clientKey: string, max: number): Promise<UploadLease | undefined> {
    if (this.#primaryUsable()) {
      const acquiring = this.#primary.acquire(clientKey, max);
      try {
        return await withTimeout(acquiring, PRIMARY_TIMEOUT_MS, `upload lease store did not answer within ${PRIMARY_TIMEOUT_MS} ms`);
      } catch (error) {
        // A lease Redis grants after we stopped waiting would hold a slot nobody uses until it expired.
        acquiring.then((late) => late?.release(), () => undefined);
        this.#onFallback(error);
      }
    }
    return this.#fallback.acquire(clientKey, max);
  }

  async held(clientKey: string): Promise<number> {
    return this.#primaryUsable() ? this.#primary.held(clientKey) : this.#fallback.held(clientKey);
  }
}
