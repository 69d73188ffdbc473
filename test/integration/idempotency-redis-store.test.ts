import { createIdempotencyStore } from '../../src/http/idempotency/create-idempotency-store';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS as COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS as IN_FLIGHT_TTL_MS,
  type IdempotencyStore,
} from '../../src/http/idempotency/idempotency-store';
import { IN_FLIGHT_LEASE_PREFIX } from '../../src/http/idempotency/leased-idempotency-store';
import { IDEMPOTENCY_KEY_PREFIX as RECORD_PREFIX } from '../../src/http/idempotency/redis-records';
import { createLogger } from '../../src/ops/logger';
import type { RedisConnection as RedisClient } from '../../src/state/redis-connection';
import { LEASE_KEY_PREFIX } from '../../src/state/redis-lease-store';
import { createSharedState } from '../../src/state/shared-state';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { RESPONSE, storeContract } from '../support/idempotency-contract';

describe('idempotency on a real redis-server (Redis leases and records)', () => {
  let redis: RedisServer;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startRedisServer();
    client = await redis.client();
  });
  afterAll(() => redis?.stop());
  beforeEach(() => client.flushAll());

  const redisStore = (): IdempotencyStore => createIdempotencyStore(createSharedState(client, createLogger('silent')));
  storeContract(redisStore);

  it('writes markers that expire: seconds in flight, a day once completed', async () => {
    const store = redisStore();
    const reservation = await store.reserve('client-a', 'ttl');
    if (reservation.state !== 'reserved') throw new Error('expected a reservation');
    const [marker] = await client.keys(`${LEASE_KEY_PREFIX}${IN_FLIGHT_LEASE_PREFIX}*`);
    expect(marker).toBeDefined();
    const inFlightTtl = await client.pTTL(marker!);
    expect(inFlightTtl).toBeGreaterThan(IN_FLIGHT_TTL_MS - 5_000);
    expect(inFlightTtl).toBeLessThanOrEqual(IN_FLIGHT_TTL_MS);
    await store.complete('client-a', 'ttl', reservation.lease, RESPONSE);
    expect(await client.exists(marker!)).toBe(0);
    const [record] = await client.keys(`${RECORD_PREFIX}*`);
    const completedTtl = await client.pTTL(record!);
    expect(completedTtl).toBeGreaterThan(COMPLETED_TTL_MS - 60_000);
    expect(completedTtl).toBeLessThanOrEqual(COMPLETED_TTL_MS);
  });

  it('frees a key whose holder died once its marker expires', async () => {
    const store = redisStore();
    const crashed = await store.reserve('client-a', 'crashed');
    if (crashed.state === 'reserved') crashed.lease.abandon();
    const [key] = await client.keys(`${LEASE_KEY_PREFIX}${IN_FLIGHT_LEASE_PREFIX}*`);
    // Stand in for the passing of IN_FLIGHT_TTL_MS: Redis itself removes the marker.
    await client.pExpire(key!, 1);
    await waitUntilGone(client, key!);
    expect((await store.reserve('client-a', 'crashed')).state).toBe('reserved');
  });

  it('keeps client addresses out of its key names', async () => {
    const store = redisStore();
    await store.reserve('203.0.113.7', 'visible-key');
    const keys = await client.keys('*');
    expect(keys.join(' ')).not.toContain('203.0.113.7');
    expect(keys.join(' ')).not.toContain('visible-key');
  });
});

/** Redis's own expiry is lazy plus a 10 Hz sweep; EXISTS forces the lazy check. Bounded polling on Redis itself. */
async function waitUntilGone(client: RedisClient, key: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    if ((await client.exists(key)) === 0) return;
  }
  throw new Error(`${key} never expired`);
}
