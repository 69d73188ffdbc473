import { createIdempotencyStore } from '../../src/http/idempotency/create-idempotency-store';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS as COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS as IN_FLIGHT_TTL_MS,
  type IdempotencyStore,
} from '../../src/http/idempotency/idempotency-store';
import { IN_FLIGHT_LEASE_PREFIX, LeasedIdempotencyStore } from '../../src/http/idempotency/leased-idempotency-store';
import { MemoryCompletedRecords } from '../../src/http/idempotency/memory-records';
import { IDEMPOTENCY_KEY_PREFIX as RECORD_PREFIX } from '../../src/http/idempotency/redis-records';
import { createLogger } from '../../src/ops/logger';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';
import type { RedisConnection as RedisClient } from '../../src/state/redis-connection';
import { LEASE_KEY_PREFIX } from '../../src/state/redis-lease-store';
import { createSharedState } from '../../src/state/shared-state';
import { type RedisServer, startRedisServer } from '../support/redis-server';

const RESPONSE = { status: 201, body: { id: 'asset-1', file_type: 'image', url: 'https://x/1', image_key: null, created_ts: 1 } };

/** The behaviour every store must have; run against each implementation below. */
function storeContract(makeStore: () => IdempotencyStore): void {
  let store: IdempotencyStore;
  beforeEach(() => {
    store = makeStore();
  });

  it('reserves a new key once; a second reserve sees it in flight', async () => {
    const first = await store.reserve('client-a', 'key-1');
    expect(first.state).toBe('reserved');
    expect(await store.reserve('client-a', 'key-1')).toEqual({ state: 'in-flight' });
  });

  it('lets exactly one of many simultaneous reserves win', async () => {
    const outcomes = await Promise.all(Array.from({ length: 25 }, () => store.reserve('client-a', 'race')));
    expect(outcomes.filter((outcome) => outcome.state === 'reserved')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome.state === 'in-flight')).toHaveLength(24);
  });

  it('replays a completed response', async () => {
    const reservation = await store.reserve('client-a', 'key-2');
    if (reservation.state !== 'reserved') throw new Error('expected a reservation');
    await store.complete('client-a', 'key-2', reservation.lease, RESPONSE);
    expect(await store.reserve('client-a', 'key-2')).toEqual({ state: 'completed', response: RESPONSE });
  });

  it('frees a released key for a new attempt', async () => {
    const reservation = await store.reserve('client-a', 'key-3');
    if (reservation.state !== 'reserved') throw new Error('expected a reservation');
    await reservation.lease.release();
    expect((await store.reserve('client-a', 'key-3')).state).toBe('reserved');
  });

  it('keeps clients apart, including keys that would collide if joined naively', async () => {
    expect((await store.reserve('client-a', 'same')).state).toBe('reserved');
    expect((await store.reserve('client-b', 'same')).state).toBe('reserved');
    expect((await store.reserve('a:b', 'c')).state).toBe('reserved');
    expect((await store.reserve('a', 'b:c')).state).toBe('reserved');
  });

  it("does not let a stale holder release or complete another request's marker", async () => {
    const first = await store.reserve('client-a', 'key-4');
    if (first.state !== 'reserved') throw new Error('expected a reservation');
    await first.lease.release();
    const second = await store.reserve('client-a', 'key-4');
    if (second.state !== 'reserved') throw new Error('expected a reservation');
    await first.lease.release();
    await store.complete('client-a', 'key-4', first.lease, RESPONSE);
    expect(await first.lease.refresh()).toBe(false);
    expect(await store.reserve('client-a', 'key-4')).toEqual({ state: 'in-flight' });
    await second.lease.release();
  });
}

describe('idempotency in this process (memory leases and records)', () => {
  storeContract(() => createIdempotencyStore(createSharedState(undefined, createLogger('silent'))));

  it('is bounded: past its size the least recently used completed record goes', async () => {
    const store = new LeasedIdempotencyStore(new MemoryLeaseStore(), new MemoryCompletedRecords(2));
    for (const key of ['one', 'two', 'three']) {
      const reservation = await store.reserve('c', key);
      if (reservation.state !== 'reserved') throw new Error('expected a reservation');
      await store.complete('c', key, reservation.lease, RESPONSE);
    }
    expect((await store.reserve('c', 'one')).state).toBe('reserved');
    expect((await store.reserve('c', 'three')).state).toBe('completed');
  });

  it('expires in-flight markers after seconds and completed records after a day', async () => {
    let now = 1_000;
    const store = new LeasedIdempotencyStore(new MemoryLeaseStore(() => now), new MemoryCompletedRecords(100, () => now));
    const stuck = await store.reserve('c', 'stuck');
    // The holder stops refreshing, as a holder that died would.
    if (stuck.state === 'reserved') stuck.lease.abandon();
    now += IN_FLIGHT_TTL_MS - 1;
    expect(await store.reserve('c', 'stuck')).toEqual({ state: 'in-flight' });
    now += 2;
    const retry = await store.reserve('c', 'stuck');
    if (retry.state !== 'reserved') throw new Error('expected the expired marker to be gone');
    await store.complete('c', 'stuck', retry.lease, RESPONSE);
    now += COMPLETED_TTL_MS - 1;
    expect((await store.reserve('c', 'stuck')).state).toBe('completed');
    now += 2;
    expect((await store.reserve('c', 'stuck')).state).toBe('reserved');
  });
});

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
