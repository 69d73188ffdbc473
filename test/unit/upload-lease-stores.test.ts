import { createUploadLeaseStore } from '../../src/http/client-uploads/create-upload-lease-store';
import { MemoryUploadCounts } from '../../src/http/client-uploads/memory-upload-counts';
import type { UploadLeaseStore } from '../../src/http/client-uploads/upload-lease-store';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';

describe.each<[string, () => UploadLeaseStore]>([
  ['on the memory lease (the fallback while Redis is down)', () => createUploadLeaseStore(new MemoryLeaseStore())],
  ['as counts in this process (no REDIS_URL)', () => new MemoryUploadCounts()],
])('per-client upload slots %s', (_name, createStore) => {
  it('grants up to max leases per client, apart for each client, and takes each back once', async () => {
    const store = createStore();
    const first = await store.acquire('ip:a', 2);
    const second = await store.acquire('ip:a', 2);
    expect(first).toBeDefined();
    expect(second).toBeDefined();
    expect(await store.acquire('ip:a', 2)).toBeUndefined();
    expect(await store.acquire('ip:b', 2)).toBeDefined();

    first!.release();
    first!.release(); // twice changes nothing
    expect(await store.held('ip:a', 2)).toBe(1);
    expect(await store.acquire('ip:a', 2)).toBeDefined();
    expect(await store.acquire('ip:a', 2)).toBeUndefined();
  });

  it('gives every slot back: a client whose uploads all ended may start max again', async () => {
    const store = createStore();
    const leases = [await store.acquire('ip:a', 3), await store.acquire('ip:a', 3), await store.acquire('ip:a', 3)];
    for (const lease of leases) lease!.release();
    expect(await store.held('ip:a', 3)).toBe(0);
    const again = [await store.acquire('ip:a', 3), await store.acquire('ip:a', 3), await store.acquire('ip:a', 3)];
    expect(again.every((lease) => lease !== undefined)).toBe(true);
    expect(await store.acquire('ip:a', 3)).toBeUndefined();
  });
});
