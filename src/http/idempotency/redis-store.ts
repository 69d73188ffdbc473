import { randomUUID } from 'node:crypto';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS as COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS as IN_FLIGHT_TTL_MS,
} from '../../upload/limits';
import type { IdempotencyStore, Reservation, StoredResponse } from './idempotency-store';
import { REDIS_KEY_PREFIX } from '../../state/redis-connection';
import { recordKey } from './record-key';

/**
 * The few commands the store uses, as a connected node-redis (v5) client provides them. Taking the
 * client rather than a URL lets the rate limiter and this store share one connection.
 */
export interface IdempotencyRedis {
  set(key: string, value: string, options: { condition: 'NX'; expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  get(key: string): Promise<unknown>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export const IDEMPOTENCY_KEY_PREFIX = `${REDIS_KEY_PREFIX}idempotency:`;

// The three ownership checks run as scripts so "is it still mine?" and the write are one step: a
// marker that expired and was taken by another replica in between must not be overwritten or deleted.
const COMPLETE_IF_OWNED_OR_FREE = `
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0`;
const RELEASE_IF_OWNED = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0`;
const REFRESH_IF_OWNED = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

/** A marker that vanished between SET NX and GET (it expired or was released) is tried again, a few times. */
const RESERVE_ATTEMPTS = 3;

interface InFlightRecord {
  readonly state: 'in-flight';
  readonly token: string;
}
interface CompletedRecord {
  readonly state: 'completed';
  readonly response: StoredResponse;
}

/**
 * Idempotency records in Redis, shared by every replica. The in-flight marker is taken with
 * SET NX PX, so two replicas racing on one key cannot both win, and it expires if its holder dies.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  readonly #redis: IdempotencyRedis;

  constructor(redis: IdempotencyRedis) {
    if (typeof redis?.set !== 'function' || typeof redis.eval !== 'function') {
      throw new TypeError('RedisIdempotencyStore: a connected node-redis client is required');
    }
    this.#redis = redis;
  }

  async reserve(clientKey: string, idempotencyKey: string): Promise<Reservation> {
    const key = redisKey(clientKey, idempotencyKey);
    for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt += 1) {
      const token = randomUUID();
      const marker = inFlight(token);
      const taken = await this.#redis.set(key, marker, { condition: 'NX', expiration: { type: 'PX', value: IN_FLIGHT_TTL_MS } });
      if (taken === 'OK') return { state: 'reserved', token };
      const current = await this.#redis.get(key);
      if (typeof current !== 'string') continue;
      const record = parseRecord(current);
      return record.state === 'completed' ? { state: 'completed', response: record.response } : { state: 'in-flight' };
    }
    // Someone keeps taking and dropping the key: treat it as busy rather than loop.
    return { state: 'in-flight' };
  }

  async complete(clientKey: string, idempotencyKey: string, token: string, response: StoredResponse): Promise<void> {
    const completed: CompletedRecord = { state: 'completed', response };
    await this.#redis.eval(COMPLETE_IF_OWNED_OR_FREE, {
      keys: [redisKey(clientKey, idempotencyKey)],
      arguments: [inFlight(token), JSON.stringify(completed), String(COMPLETED_TTL_MS)],
    });
  }

  async release(clientKey: string, idempotencyKey: string, token: string): Promise<void> {
    await this.#redis.eval(RELEASE_IF_OWNED, { keys: [redisKey(clientKey, idempotencyKey)], arguments: [inFlight(token)] });
  }

  async refresh(clientKey: string, idempotencyKey: string, token: string): Promise<void> {
    await this.#redis.eval(REFRESH_IF_OWNED, {
      keys: [redisKey(clientKey, idempotencyKey)],
      arguments: [inFlight(token), String(IN_FLIGHT_TTL_MS)],
    });
  }
}

function redisKey(clientKey: string, idempotencyKey: string): string {
  return IDEMPOTENCY_KEY_PREFIX + recordKey(clientKey, idempotencyKey);
}

/** Serialised identically every time, so the scripts can compare markers as plain strings. */
function inFlight(token: string): string {
  const record: InFlightRecord = { state: 'in-flight', token };
  return JSON.stringify(record);
}

function parseRecord(text: string): InFlightRecord | CompletedRecord {
  const record = JSON.parse(text) as InFlightRecord | CompletedRecord;
  if (record.state !== 'completed' && record.state !== 'in-flight') throw new Error('unrecognised idempotency record in Redis');
  return record;
}
