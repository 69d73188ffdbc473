import { randomBytes } from 'node:crypto';
import type { Lock, Locker, RequestRelease } from '@tus/utils';
import { ApiError } from '../../errors';
import { REDIS_KEY_PREFIX, type RedisConnection } from '../../state/redis-connection';

const LOCK_PREFIX = `${REDIS_KEY_PREFIX}tus-lock:`;

/** Extend our lock, and tell the holder whether a waiter asked for it (1) or not (0); -1: no longer ours. */
const REFRESH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return redis.call('EXISTS', KEYS[2])
end
return -1`;

/** Delete the lock only if it is still ours (a lock that expired may belong to another request now). */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0`;

export interface RedisLockerOptions {
  /** A lock not refreshed for this long is free again (its holder's replica died). */
  readonly ttlMs?: number;
  /** How long a request waits for a lock held by another before giving up (423). */
  readonly acquireTimeoutMs?: number;
  /** How often a waiter tries again. */
  readonly retryMs?: number;
}

/**
 * @tus/server's Locker on the project's Redis, so that requests for one upload landing on different
 * replicas take turns: SET NX PX with a random token, refreshed by the holder, released by a Lua
 * compare-and-delete. tus asks a holder to let go when another request wants the lock (the client
 * reconnected after a broken PATCH whose request is still open): a waiter sets `<key>:release`, and the
 * holder's next refresh sees it and calls its requestRelease (within a third of the TTL).
 */
export class RedisLocker implements Locker {
  readonly #redis: RedisConnection;
  readonly ttlMs: number;
  readonly acquireTimeoutMs: number;
  readonly retryMs: number;

  constructor(redis: RedisConnection, options: RedisLockerOptions = {}) {
    this.#redis = redis;
    this.ttlMs = options.ttlMs ?? 15_000;
    this.acquireTimeoutMs = options.acquireTimeoutMs ?? 30_000;
    this.retryMs = options.retryMs ?? 50;
  }

  newLock(id: string): Lock {
    return new RedisLock(this.#redis, `${LOCK_PREFIX}${id}`, this);
  }
}

class RedisLock implements Lock {
  readonly #redis: RedisConnection;
  readonly #key: string;
  readonly #releaseKey: string;
  readonly #token = randomBytes(16).toString('hex');
  readonly #locker: RedisLocker;
  #refresher: NodeJS.Timeout | undefined;

  constructor(redis: RedisConnection, key: string, locker: RedisLocker) {
    this.#redis = redis;
    this.#key = key;
    this.#releaseKey = `${key}:release`;
    this.#locker = locker;
  }

  async lock(stopSignal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = Date.now() + this.#locker.acquireTimeoutMs;
    let asked = false;
    for (;;) {
      if (stopSignal.aborted) throw new ApiError('UPLOAD_LOCKED', undefined, { headers: { 'Retry-After': '1' } });
      const acquired = await this.#command(['SET', this.#key, this.#token, 'NX', 'PX', String(this.#locker.ttlMs)]);
      if (acquired === 'OK') {
        this.#startRefreshing(requestRelease);
        return;
      }
      if (!asked) {
        // Ask the holder to finish up: its refresh notices within a third of the TTL.
        await this.#command(['SET', this.#releaseKey, '1', 'PX', String(this.#locker.ttlMs)]);
        asked = true;
      }
      if (Date.now() >= deadline) throw new ApiError('UPLOAD_LOCKED', undefined, { headers: { 'Retry-After': '1' } });
      await new Promise((resolve) => setTimeout(resolve, this.#locker.retryMs));
    }
  }

  async unlock(): Promise<void> {
    clearInterval(this.#refresher);
    this.#refresher = undefined;
    await this.#command(['EVAL', RELEASE, '2', this.#key, this.#releaseKey, this.#token]).catch(() => undefined);
  }

  #startRefreshing(requestRelease: RequestRelease): void {
    let released = false;
    this.#refresher = setInterval(() => {
      this.#command(['EVAL', REFRESH, '2', this.#key, this.#releaseKey, this.#token, String(this.#locker.ttlMs)]).then(
        (answer) => {
          if ((answer === 1 || answer === -1) && !released) {
            released = true;
            void requestRelease();
          }
        },
        () => undefined,
      );
    }, Math.max(10, Math.floor(this.#locker.ttlMs / 3)));
    this.#refresher.unref();
  }

  async #command(args: string[]): Promise<unknown> {
    try {
      return await this.#redis.sendCommand(args);
    } catch (error) {
      throw new ApiError('RESUMABLE_UNAVAILABLE', undefined, { cause: error, headers: { 'Retry-After': '1' } });
    }
  }
}
