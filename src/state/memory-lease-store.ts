import { randomBytes } from 'node:crypto';
import { type GrantedLease, holdLease } from './held-lease';
import { type HeldLease, type LeaseOptions, type LeaseStore, slotKey } from './lease';

interface Entry {
  readonly token: string;
  expiresAt: number;
}

/** Expired entries are swept when the map has grown past this since the last sweep. */
const FIRST_SWEEP_AT = 1_024;

/**
 * Leases in this process: alone when REDIS_URL is unset, and as the per-replica fallback while Redis
 * is unreachable (fallback-policy.ts). The same contract as RedisLeaseStore, kept by one clock, this
 * process's. Holders that never give a lease back cost memory only until it expires.
 */
export class MemoryLeaseStore implements LeaseStore {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #sweepAt = FIRST_SWEEP_AT;

  /** `now` is the clock leases expire by; tests pass their own rather than wait out a TTL. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  acquire(key: string, options: LeaseOptions): Promise<HeldLease | undefined> {
    return Promise.resolve(this.#take(key, options));
  }

  acquireSlot(key: string, slots: number, options: LeaseOptions): Promise<HeldLease | undefined> {
    for (let slot = 0; slot < slots; slot += 1) {
      const lease = this.#take(slotKey(key, slot), options);
      if (lease) return Promise.resolve(lease);
    }
    return Promise.resolve(undefined);
  }

  isHeld(key: string): Promise<boolean> {
    return Promise.resolve(this.#live(key) !== undefined);
  }

  heldSlots(key: string, slots: number): Promise<number> {
    let held = 0;
    for (let slot = 0; slot < slots; slot += 1) if (this.#live(slotKey(key, slot))) held += 1;
    return Promise.resolve(held);
  }

  #take(key: string, options: LeaseOptions): HeldLease | undefined {
    if (this.#live(key)) return undefined;
    this.#sweep();
    const token = randomBytes(16).toString('hex');
    this.#entries.set(key, { token, expiresAt: this.#now() + options.ttlMs });
    return holdLease(this.#grant(key, token, options.ttlMs), options);
  }

  #grant(key: string, token: string, ttlMs: number): GrantedLease {
    return {
      key,
      token,
      refresh: () => {
        const entry = this.#live(key);
        if (entry?.token !== token) return Promise.resolve(false);
        entry.expiresAt = this.#now() + ttlMs;
        return Promise.resolve(true);
      },
      remove: () => {
        if (this.#live(key)?.token === token) this.#entries.delete(key);
        return Promise.resolve();
      },
    };
  }

  /** The entry while it has not expired; an expired one is dropped on sight. */
  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.#now()) return entry;
    this.#entries.delete(key);
    return undefined;
  }

  /** Drops expired entries now and then, so keys nobody asks about again do not pile up. */
  #sweep(): void {
    if (this.#entries.size < this.#sweepAt) return;
    for (const key of [...this.#entries.keys()]) this.#live(key);
    this.#sweepAt = Math.max(FIRST_SWEEP_AT, this.#entries.size * 2);
  }
}
