import { LRUCache } from 'lru-cache';
import { type CompletedRecords, IDEMPOTENCY_COMPLETED_TTL_MS, type StoredResponse } from './idempotency-store';

/** Enough for a busy single replica's day of keyed uploads; an asset record is a few hundred bytes. */
export const IDEMPOTENCY_MEMORY_MAX_ENTRIES = 50_000;

/**
 * Completed answers in this process only: for a single replica or development. Bounded (least
 * recently used first out) and every record expires. With several replicas use Redis, or a retry
 * that lands on another replica uploads again.
 */
export class MemoryCompletedRecords implements CompletedRecords {
  readonly #records: LRUCache<string, StoredResponse>;

  /**
   * `now` is the clock records expire by; tests pass their own rather than wait a day.
   *
   * Bounded by `maxSize` with every record counting 1, not by `max`: lru-cache allocates its arrays
   * for `max` entries up front (about 1.6 MB of heap for 50,000, held by every idle replica whether
   * or not a client ever sends a key); with `maxSize` they grow with the records. The bound on the
   * count is the same; full, the cache's own arrays take about 2.8 MB instead of 1.9 (plain arrays
   * where `max` picks 16-bit ones), beside the records themselves (a few hundred bytes each).
   */
  constructor(maxEntries = IDEMPOTENCY_MEMORY_MAX_ENTRIES, now: () => number = () => performance.now()) {
    this.#records = new LRUCache<string, StoredResponse>({
      maxSize: maxEntries,
      sizeCalculation: () => 1,
      ttl: IDEMPOTENCY_COMPLETED_TTL_MS,
      ttlResolution: 0,
      perf: { now },
    });
  }

  get(name: string): Promise<StoredResponse | undefined> {
    return Promise.resolve(this.#records.get(name));
  }

  put(name: string, response: StoredResponse): Promise<void> {
    this.#records.set(name, response);
    return Promise.resolve();
  }
}
