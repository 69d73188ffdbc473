import type { SharedState } from '../../state/shared-state';
import type { IdempotencyStore } from './idempotency-store';
import { LeasedIdempotencyStore } from './leased-idempotency-store';
import { MemoryCompletedRecords } from './memory-records';
import { RedisCompletedRecords } from './redis-records';

/** Idempotency shared through Redis when there is one (refusing with 503 when it fails), else in this process. */
export function createIdempotencyStore(shared: SharedState): IdempotencyStore {
  const records = shared.redis === undefined ? new MemoryCompletedRecords() : new RedisCompletedRecords(shared.redis);
  return new LeasedIdempotencyStore(shared.leases('idempotency'), records);
}
