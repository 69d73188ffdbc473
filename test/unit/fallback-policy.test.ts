import { ApiError } from '../../src/errors';
import { createLogger } from '../../src/ops/logger';
import { degradedStatus, FALLBACK_POLICY, leasesWithPolicy, PerReplicaFallback, refusalFor } from '../../src/state/fallback-policy';
import type { HeldLease, LeaseStore } from '../../src/state/lease';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';

const logger = createLogger('silent');

/** A shared store whose every call waits until the test answers it, as a Redis that stopped answering. */
function hangingStore() {
  const waiting: Array<(lease: HeldLease | undefined) => void> = [];
  let asked = 0;
  const never = <T>() => new Promise<T>(() => undefined);
  const store: LeaseStore = {
    acquire: () => {
      asked += 1;
      return new Promise((resolve) => waiting.push(resolve));
    },
    acquireSlot: () => {
      asked += 1;
      return new Promise((resolve) => waiting.push(resolve));
    },
    isHeld: never,
    heldSlots: never,
  };
  return { store, asked: () => asked, answerLate: (lease: HeldLease) => waiting.shift()?.(lease) };
}

/** A shared store that fails at once, as a closed connection does. */
const failingStore: LeaseStore = {
  acquire: () => Promise.reject(new Error('The client is closed')),
  acquireSlot: () => Promise.reject(new Error('The client is closed')),
  isHeld: () => Promise.reject(new Error('The client is closed')),
  heldSlots: () => Promise.reject(new Error('The client is closed')),
};

describe('the fallback policy', () => {
  it('lets rate limits and per-client caps go per-replica, and refuses the rest with their 503', () => {
    expect(FALLBACK_POLICY.rateLimit.whenRedisFails).toBe('per-replica');
    expect(FALLBACK_POLICY.clientUploads.whenRedisFails).toBe('per-replica');
    const idempotency = refusalFor('idempotency', new Error('down'));
    expect(idempotency).toBeInstanceOf(ApiError);
    expect([idempotency.status, idempotency.code, idempotency.headers]).toEqual([503, 'IDEMPOTENCY_UNAVAILABLE', {}]);
    for (const user of ['resumableLocks', 'completionClaims', 'resumableReservations'] as const) {
      const refusal = refusalFor(user, new Error('down'));
      expect([refusal.status, refusal.code, refusal.headers]).toEqual([503, 'RESUMABLE_UNAVAILABLE', { 'Retry-After': '1' }]);
    }
    expect(() => new PerReplicaFallback('idempotency', () => true, logger)).toThrow(/must refuse/);
    expect(degradedStatus()).toMatch(/^degraded: redis unreachable; per-replica budgets in force for rate limits, per-client upload caps; keyed uploads, resumable uploads, resumable completions, resumable creations refused with 503$/);
  });

  it('per-replica: uses this replica’s leases without asking Redis while it is known to be down', async () => {
    const shared = hangingStore();
    const leases = leasesWithPolicy('clientUploads', shared.store, new MemoryLeaseStore(), () => false, logger);
    expect(await leases.acquireSlot('c', 1, { ttlMs: 60_000 })).toBeDefined();
    expect(await leases.acquireSlot('c', 1, { ttlMs: 60_000 })).toBeUndefined();
    expect(shared.asked()).toBe(0);
  });

  it('per-replica: falls back when Redis is too slow, and gives back a lease Redis grants after that', async () => {
    const shared = hangingStore();
    const local = new MemoryLeaseStore();
    const leases = leasesWithPolicy('clientUploads', shared.store, local, () => true, logger);
    const started = performance.now();
    const lease = await leases.acquireSlot('c', 1, { ttlMs: 60_000 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(FALLBACK_POLICY.clientUploads.answerWithinMs - 1);
    expect(lease).toBeDefined();
    expect(await local.heldSlots('c', 1)).toBe(1);

    const lateStore = new MemoryLeaseStore();
    const late = (await lateStore.acquire('late', { ttlMs: 60_000 }))!;
    let released: () => void = () => undefined;
    const wasReleased = new Promise<void>((resolve) => (released = resolve));
    shared.answerLate({ ...late, release: () => late.release().then(released) });
    // Redis's late grant is given back (resolves only then; jest's timeout fails the test otherwise).
    await wasReleased;
    expect(await lateStore.isHeld('late')).toBe(false);
  });

  it('per-replica: a failing Redis falls back at once', async () => {
    const leases = leasesWithPolicy('rateLimit', failingStore, new MemoryLeaseStore(), () => true, logger);
    expect(await leases.acquire('k', { ttlMs: 60_000 })).toBeDefined();
    expect(await leases.isHeld('k')).toBe(true);
  });

  it('refuse: turns every failure into the user’s 503 and never falls back to memory', async () => {
    const idempotency = leasesWithPolicy('idempotency', failingStore, new MemoryLeaseStore(), () => true, logger);
    await expect(idempotency.acquire('k', { ttlMs: 15_000 })).rejects.toMatchObject({ code: 'IDEMPOTENCY_UNAVAILABLE', status: 503 });
    await expect(idempotency.isHeld('k')).rejects.toMatchObject({ code: 'IDEMPOTENCY_UNAVAILABLE' });
    const locks = leasesWithPolicy('resumableLocks', failingStore, new MemoryLeaseStore(), () => false, logger);
    await expect(locks.acquire('k', { ttlMs: 15_000 })).rejects.toMatchObject({ code: 'RESUMABLE_UNAVAILABLE', headers: { 'Retry-After': '1' } });
    const claims = leasesWithPolicy('completionClaims', failingStore, new MemoryLeaseStore(), () => true, logger);
    await expect(claims.acquire('k', { ttlMs: 15_000 })).rejects.toMatchObject({ code: 'RESUMABLE_UNAVAILABLE' });
  });
});
