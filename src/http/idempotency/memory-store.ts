import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS as COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS as IN_FLIGHT_TTL_MS,
  IDEMPOTENCY_MEMORY_MAX_ENTRIES,
} from '../../upload/limits';
import type { IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { recordKey } from './record-key';

type Entry = { readonly state: 'in-flight'; readonly token: string } | { readonly state: 'completed'; readonly response: StoredResponse };

/**
 * Idempotency records in this process only: for a single replica or development. Bounded (least
 * recently used entries go first) and every entry expires. With several replicas use Redis, or a
 * retry that lands on another replica uploads again.
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  readonly #entries: LRUCache<string, Entry>;

  /** `now` is the clock entries expire by; tests pass their own rather than wait minutes. */
  constructor(maxEntries = IDEMPOTENCY_MEMORY_MAX_ENTRIES, now: () => number = () => performance.now()) {
    this.#entries = new LRUCache<string, Entry>({ max: maxEntries, ttl: COMPLETED_TTL_MS, ttlResolution: 0, perf: { now } });
  }

  reserve(clientKey: string, idempotencyKey: string): Promise<Reservation> {
    const key = recordKey(clientKey, idempotencyKey);
    const existing = this.#entries.get(key);
    if (existing?.state === 'completed') return Promise.resolve({ state: 'completed', response: existing.response });
    if (existing?.state === 'in-flight') return Promise.resolve({ state: 'in-flight' });
    const token = randomUUID();
    this.#entries.set(key, { state: 'in-flight', token }, { ttl: IN_FLIGHT_TTL_MS });
    return Promise.resolve({ state: 'reserved', token });
  }

  complete(clientKey: string, idempotencyKey: string, token: string, response: StoredResponse): Promise<void> {
    const key = recordKey(clientKey, idempotencyKey);
    if (this.#ownedOrFree(key, token)) this.#entries.set(key, { state: 'completed', response }, { ttl: COMPLETED_TTL_MS });
    return Promise.resolve();
  }

  release(clientKey: string, idempotencyKey: string, token: string): Promise<void> {
    const key = recordKey(clientKey, idempotencyKey);
    if (this.#owned(key, token)) this.#entries.delete(key);
    return Promise.resolve();
  }

  refresh(clientKey: string, idempotencyKey: string, token: string): Promise<void> {
    const key = recordKey(clientKey, idempotencyKey);
    const entry = this.#entries.get(key);
    if (entry?.state === 'in-flight' && entry.token === token) this.#entries.set(key, entry, { ttl: IN_FLIGHT_TTL_MS });
    return Promise.resolve();
  }

  #owned(key: string, token: string): boolean {
    const entry = this.#entries.get(key);
    return entry?.state === 'in-flight' && entry.token === token;
  }

  // A marker that expired while the upload ran is gone; the success is still worth recording.
  #ownedOrFree(key: string, token: string): boolean {
    return !this.#entries.has(key) || this.#owned(key, token);
  }
}
