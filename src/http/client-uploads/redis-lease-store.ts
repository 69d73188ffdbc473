import { randomUUID } from 'node:crypto';
import { REDIS_KEY_PREFIX, type RedisConnection } from '../../state/redis-connection';
import type { UploadLease, UploadLeaseStore } from './upload-lease-store';

const LEASE_KEY_PREFIX = `${REDIS_KEY_PREFIX}uploads-in-progress:`;

/**
 * Redis's own clock in milliseconds: every replica measures lease expiry by one clock. (Scripts may
 * call TIME since Redis 5, whose scripts replicate their effects, not their code.)
 */
const NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/**
 * KEYS[1]: the client's set of leases, each scored by when it expires. ARGV: lease id, max, ttl ms.
 * Drops expired leases (a replica that died mid-upload), then takes a slot if one is free.
 */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** KEYS[1], ARGV: lease id, ttl ms. Pushes a live lease's expiry on; one that has already expired stays gone. */
const REFRESH = `${NOW}
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires or tonumber(expires) <= now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

/** KEYS[1]: live leases, after dropping expired ones. */
const COUNT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])`;

export interface RedisUploadLeaseOptions {
  readonly ttlMs: number;
  readonly refreshMs: number;
}

/**
 * Each client's uploads in progress, shared by every replica: a sorted set per client whose members
 * are leases (one per upload, a random id) scored by their expiry. A lease is refreshed while its
 * upload runs and removed when it ends; if the replica holding it dies, it expires within the TTL
 * and the next acquire drops it, so a crash never leaks a slot for longer than that. The key itself
 * expires with its last lease.
 */
export class RedisUploadLeaseStore implements UploadLeaseStore {
  readonly #redis: RedisConnection;
  readonly #options: RedisUploadLeaseOptions;

  constructor(redis: RedisConnection, options: RedisUploadLeaseOptions) {
    this.#redis = redis;
    this.#options = options;
  }

  async acquire(clientKey: string, max: number): Promise<UploadLease | undefined> {
    const key = `${LEASE_KEY_PREFIX}${clientKey}`;
    const id = randomUUID();
    const taken = await this.#redis.sendCommand(['EVAL', ACQUIRE, '1', key, id, String(max), String(this.#options.ttlMs)]);
    if (Number(taken) !== 1) return undefined;
    const refresh = setInterval(() => {
      // A failed refresh changes nothing for the upload: at worst its slot expires early.
      this.#redis.sendCommand(['EVAL', REFRESH, '1', key, id, String(this.#options.ttlMs)]).catch(() => undefined);
    }, this.#options.refreshMs);
    refresh.unref();
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        clearInterval(refresh);
        // If Redis cannot be told now, the lease expires on its own within the TTL.
        this.#redis.sendCommand(['ZREM', key, id]).catch(() => undefined);
      },
    };
  }

  async held(clientKey: string): Promise<number> {
    return Number(await this.#redis.sendCommand(['EVAL', COUNT, '1', `${LEASE_KEY_PREFIX}${clientKey}`]));
  }
}
