import { FallbackUploadLeaseStore } from '../../src/http/client-uploads/fallback-lease-store';
import { MemoryUploadLeaseStore } from '../../src/http/client-uploads/memory-lease-store';
import type { UploadLease, UploadLeaseStore } from '../../src/http/client-uploads/upload-lease-store';

describe('MemoryUploadLeaseStore', () => {
  it('grants up to max leases per client, apart for each client, and takes each back once', async () => {
    const store = new MemoryUploadLeaseStore();
    const first = await store.acquire('ip:a', 2);
    const second = await store.acquire('ip:a', 2);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(await store.acquire('ip:a', 2)).toBeUndefined();
    expect(await store.acquire('ip:b', 2)).toBeDefined();

    first!.release();
    first!.release(); // twice changes nothing
    expect(await store.held('ip:a')).toBe(1);
    expect(await store.acquire('ip:a', 2)).toBeDefined();
    expect(await store.acquire('ip:a', 2)).toBeUndefined();
  });
});

describe('FallbackUploadLeaseStore', () => {
  /** A primary whose acquire never answers until told to, as a Redis that stopped answering. */
  function hangingPrimary() {
    let grant: ((lease: UploadLease | undefined) => void) | undefined;
    let onRelease: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (onRelease = resolve));
    const store: UploadLeaseStore = {
      acquire: () => new Promise((resolve) => (grant = resolve)),
      held: () => Promise.resolve(0),
    };
    return { store, released, answerLate: () => grant?.({ release: onRelease }) };
  }

  it('uses the per-replica count when the shared store is not usable', async () => {
    const fallback = new MemoryUploadLeaseStore();
    const failures: unknown[] = [];
    const store = new FallbackUploadLeaseStore(hangingPrimary().store, fallback, () => false, (error) => failures.push(error));
    expect(await store.acquire('ip:a', 1)).toBeDefined();
    expect(await store.acquire('ip:a', 1)).toBeUndefined();
    expect(failures).toEqual([]);
  });

  it('falls back when the shared store is too slow, and gives back a lease it grants too late', async () => {
    const primary = hangingPrimary();
    const failures: unknown[] = [];
    const store = new FallbackUploadLeaseStore(primary.store, new MemoryUploadLeaseStore(), () => true, (error) => failures.push(error));
    const lease = await store.acquire('ip:a', 1);
    expect(lease).toBeDefined();
    expect(failures).toHaveLength(1);
    primary.answerLate();
    // Resolves only if the late lease is released; jest's timeout fails the test otherwise.
    await primary.released;
  });
});
