import { getHeapStatistics } from 'node:v8';
import { createIdempotencyStore } from '../../src/http/idempotency/create-idempotency-store';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS as COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS as IN_FLIGHT_TTL_MS,
} from '../../src/http/idempotency/idempotency-store';
import { LeasedIdempotencyStore } from '../../src/http/idempotency/leased-idempotency-store';
import { MemoryCompletedRecords } from '../../src/http/idempotency/memory-records';
import { createLogger } from '../../src/ops/logger';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';
import { createSharedState } from '../../src/state/shared-state';
import { RESPONSE, storeContract } from '../support/idempotency-contract';

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

  it('holds no memory for records it does not have: an idle replica pays nothing for its bound', () => {
    // In a process where other work may collect garbage meanwhile, a collection can only shrink the
    // difference; a store that set its bound aside up front (lru-cache's `max`) adds about 1.6 MB.
    const before = getHeapStatistics().used_heap_size;
    const store = new MemoryCompletedRecords();
    const grown = getHeapStatistics().used_heap_size - before;
    expect(store).toBeDefined();
    expect(grown).toBeLessThan(200_000);
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

