import type { Lock, Locker, RequestRelease } from '@tus/utils';
import { ApiError } from '../../errors';
import type { HeldLease, LeaseStore } from '../../state/lease';

const LOCK_PREFIX = 'tus-lock:';

export interface RedisLockerOptions {
  /** A lock not refreshed for this long is free again (its holder's replica died). */
  readonly ttlMs?: number;
  /** How long a request waits for a lock held by another before giving up (423). */
  readonly acquireTimeoutMs?: number;
  /** How often a waiter tries again. */
  readonly retryMs?: number;
}

/**
 * @tus/server's Locker on the shared-state lease (the resumableLocks policy: Redis, refused with 503
 * RESUMABLE_UNAVAILABLE when it fails), so that requests for one upload landing on different
 * replicas take turns. tus asks a holder to let go when another request wants the lock (the client
 * reconnected after a broken PATCH whose request is still open): a waiter takes a second lease,
 * `<lock>:release`, for as long as it waits, and the holder looks for it after each heartbeat (a
 * third of the TTL) and then calls its requestRelease.
 */
export class RedisLocker implements Locker {
  readonly leases: LeaseStore;
  readonly ttlMs: number;
  readonly acquireTimeoutMs: number;
  readonly retryMs: number;

  constructor(leases: LeaseStore, options: RedisLockerOptions = {}) {
    this.leases = leases;
    this.ttlMs = options.ttlMs ?? 15_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.retryMs = options.retryMs ?? 50;
  }

  newLock(id: string): Lock {
    return new LeaseLock(`${LOCK_PREFIX}${id}`, this);
  }
}

class LeaseLock implements Lock {
  readonly #key: string;
  readonly #releaseKey: string;
  readonly #locker: RedisLocker;
  #held: HeldLease | undefined;

  constructor(key: string, locker: RedisLocker) {
    this.#key = key;
    this.#releaseKey = `${key}:release`;
    this.#locker = locker;
  }

  async lock(stopSignal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const { leases, ttlMs, acquireTimeoutMs, retryMs } = this.#locker;
    const deadline = Date.now() + acquireTimeoutMs;
    let asked = false;
    // Once per hold: the lease was lost, or a waiter asked for it.
    const askedToLetGo = (): void => {
      if (asked) return;
      asked = true;
      void requestRelease();
    };
    let asking: HeldLease | undefined;
    try {
      for (;;) {
        if (stopSignal.aborted) throw locked();
        const held = await leases.acquire(this.#key, { ttlMs, onLost: askedToLetGo, onRefreshed: () => this.#answerReleaseRequest(askedToLetGo) });
        if (held) {
          this.#held = held;
          return;
        }
        // Ask the holder to finish up; another waiter may be asking already, which does as well.
        asking ??= await leases.acquire(this.#releaseKey, { ttlMs });
        if (Date.now() >= deadline) throw locked();
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    } finally {
      await asking?.release();
    }
  }

  async unlock(): Promise<void> {
    const held = this.#held;
    this.#held = undefined;
    await held?.release();
  }

  #answerReleaseRequest(letGo: () => void): void {
    // A store that does not answer now is asked again at the next heartbeat.
    this.#locker.leases.isHeld(this.#releaseKey).then((asked) => asked && letGo(), () => undefined);
  }
}

function locked(): ApiError {
  return new ApiError('UPLOAD_LOCKED', undefined, { headers: { 'Retry-After': '1' } });
}
