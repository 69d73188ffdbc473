import { randomBytes } from 'node:crypto';
import { withTimeout } from '../with-timeout';
import { acquireWithin, type GrantedLease, holdLease } from './held-lease';
import { type HeldLease, type LeaseOptions, type LeaseStore, slotKey } from './lease';
import { REDIS_KEY_PREFIX, type RedisConnection } from './redis-connection';

/**
 * Lease keys sit directly under the service's prefix, named by their users (`tus-lock:…`,
 * `idempotency-in-flight:…`, `uploads-in-progress:…`): a tus lock then has the key and value a
 * replica of the previous release takes, so replicas of both take turns on an upload while a
 * rolling deploy runs.
 */
export const LEASE_KEY_PREFIX = REDIS_KEY_PREFIX;

/** KEYS[1], ARGV: token, ttl ms. Extends the lease only if it is still this token's. */
const REFRESH = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

/** KEYS[1], ARGV: token. Deletes the lease only if it is still this token's: an expired one may be another's now. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`;

/**
 * ARGV: key, slots, token, ttl ms. Takes the first free slot (an ordinary lease, `<key>:<n>`) and
 * returns its number, or -1 when all are held; one script, so two replicas cannot take one slot.
 * The slot keys are built inside the script: a cap may be large, and is not scanned past the first
 * free slot.
 */
const ACQUIRE_SLOT = `
for slot = 0, tonumber(ARGV[2]) - 1 do
  if redis.call('SET', ARGV[1] .. ':' .. slot, ARGV[3], 'NX', 'PX', ARGV[4]) then return slot end
end
return -1`;

/** ARGV: key, slots. How many of the slots are held. */
const HELD_SLOTS = `
local held = 0
for slot = 0, tonumber(ARGV[2]) - 1 do
  held = held + redis.call('EXISTS', ARGV[1] .. ':' .. slot)
end
return held`;

export interface RedisLeaseStoreOptions {
  /** Each command that takes longer counts as the store not answering; a grant after that is given back. */
  readonly answerWithinMs: number;
}

/**
 * Leases in the Redis every replica shares: SET NX PX with a random token to take one, a Lua
 * compare-and-PEXPIRE to refresh it, a Lua compare-and-delete to give it back. Redis's own expiry
 * ends the lease of a holder that died, so no replica ever compares its clock with another's.
 */
export class RedisLeaseStore implements LeaseStore {
  readonly #redis: RedisConnection;
  readonly #answerWithinMs: number;

  constructor(redis: RedisConnection, options: RedisLeaseStoreOptions) {
    this.#redis = redis;
    this.#answerWithinMs = options.answerWithinMs;
  }

  acquire(key: string, options: LeaseOptions): Promise<HeldLease | undefined> {
    const token = newToken();
    const acquiring = this.#send(['SET', LEASE_KEY_PREFIX + key, token, 'NX', 'PX', String(options.ttlMs)]).then((answer) => (String(answer) === 'OK' ? holdLease(this.#grant(key, token, options.ttlMs), options) : undefined));
    return acquireWithin(acquiring, this.#answerWithinMs, 'the lease store');
  }

  acquireSlot(key: string, slots: number, options: LeaseOptions): Promise<HeldLease | undefined> {
    const token = newToken();
    const acquiring = this.#send(['EVAL', ACQUIRE_SLOT, '0', LEASE_KEY_PREFIX + key, String(slots), token, String(options.ttlMs)]).then((answer) => {
      const slot = Number(answer);
      return slot < 0 ? undefined : holdLease(this.#grant(slotKey(key, slot), token, options.ttlMs), options);
    });
    return acquireWithin(acquiring, this.#answerWithinMs, 'the lease store');
  }

  async isHeld(key: string): Promise<boolean> {
    return Number(await this.#command(['EXISTS', LEASE_KEY_PREFIX + key])) === 1;
  }

  async heldSlots(key: string, slots: number): Promise<number> {
    return Number(await this.#command(['EVAL', HELD_SLOTS, '0', LEASE_KEY_PREFIX + key, String(slots)]));
  }

  #grant(key: string, token: string, ttlMs: number): GrantedLease {
    const redisKey = LEASE_KEY_PREFIX + key;
    return {
      key,
      token,
      refresh: async () => Number(await this.#command(['EVAL', REFRESH, '1', redisKey, token, String(ttlMs)])) === 1,
      remove: async () => {
        await this.#command(['EVAL', RELEASE, '1', redisKey, token]);
      },
    };
  }

  #command(args: string[]): Promise<unknown> {
    return withTimeout(this.#send(args), this.#answerWithinMs, `the lease store did not answer within ${this.#answerWithinMs} ms`);
  }

  /** The client throws at once when it is closed; callers get a rejection either way. */
  async #send(args: string[]): Promise<unknown> {
    return this.#redis.sendCommand(args);
  }
}

function newToken(): string {
  return randomBytes(16).toString('hex');
}
