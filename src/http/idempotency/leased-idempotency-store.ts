import type { HeldLease, LeaseStore } from '../../state/lease';
import {
  type CompletedRecords,
  IDEMPOTENCY_IN_FLIGHT_REFRESH_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS,
  type IdempotencyStore,
  type Reservation,
  type StoredResponse,
} from './idempotency-store';
import { recordKey } from './record-key';

/** In-flight markers are leases named by this and the record's key (completed records live at `idempotency:…`). */
export const IN_FLIGHT_LEASE_PREFIX = 'idempotency-in-flight:';

/**
 * Idempotency on the shared-state lease: a request holds its key by an in-flight lease (taken if
 * absent, so two replicas racing on one key cannot both win; refreshed while the request lives;
 * gone within its TTL when the replica holding it dies), and a success is kept as a completed record
 * beside it. The record is written before the lease is given back, and looked for after the lease
 * is taken, so a request that takes a key just given back always finds the answer that freed it.
 */
export class LeasedIdempotencyStore implements IdempotencyStore {
  readonly #leases: LeaseStore;
  readonly #records: CompletedRecords;

  constructor(leases: LeaseStore, records: CompletedRecords) {
    this.#leases = leases;
    this.#records = records;
  }

  async reserve(clientKey: string, idempotencyKey: string, onLost?: () => void): Promise<Reservation> {
    const name = recordKey(clientKey, idempotencyKey);
    const lease = await this.#leases.acquire(IN_FLIGHT_LEASE_PREFIX + name, {
      ttlMs: IDEMPOTENCY_IN_FLIGHT_TTL_MS,
      refreshEveryMs: IDEMPOTENCY_IN_FLIGHT_REFRESH_MS,
      onLost,
    });
    try {
      const completed = await this.#records.get(name);
      if (completed !== undefined) {
        await lease?.release();
        return { state: 'completed', response: completed };
      }
    } catch (error) {
      await lease?.release();
      throw error;
    }
    return lease === undefined ? { state: 'in-flight' } : { state: 'reserved', lease };
  }

  async complete(clientKey: string, idempotencyKey: string, lease: HeldLease, response: StoredResponse): Promise<void> {
    // A lease that expired while the upload ran is still worth recording over, unless another
    // request has taken the key since: that one's answer will be kept.
    const stillOurs = await lease.refresh();
    if (!stillOurs && (await this.#leases.isHeld(lease.key))) return;
    await this.#records.put(recordKey(clientKey, idempotencyKey), response);
    await lease.release();
  }
}
