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

  /** `now` is the clock records expire by; tests pass their own rather than wait a day. */
  constructor(maxEntries = IDEMPOTENCY_MEMORY_MAX_ENTRIES, now: () => number = () => performance.now()) {
    this.#records = new LRUCache<string, StoredResponse>({ max: maxEntries, ttl: IDEMPOTENCY_COMPLETED_TTL_MS, ttlResolution: 0, perf: { now } });
  }

  get(name: string): Promise<StoredResponse | undefined> {
    return Promise.resolve(this.#records.get(name));
  }

  put(name: string, response: StoredResponse): Promise<void> {
    this.#records.set(name, response);
    return Promise.resolve();
  }
}
