import { createUploadLeaseStore } from '../../src/http/client-uploads/create-upload-lease-store';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';

describe('per-client upload slots on the memory lease', () => {
  it('grants up to max leases per client, apart for each client, and takes each back once', async () => {
    const store = createUploadLeaseStore(new MemoryLeaseStore());
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
});
