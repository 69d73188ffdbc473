import { acquireWithin } from '../../src/state/held-lease';
import type { HeldLease } from '../../src/state/lease';
import { MemoryLeaseStore } from '../../src/state/memory-lease-store';

/** A clock the test moves by hand, so expiry is tested without waiting out a TTL. */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Resolves after the lease's heartbeat has kept it `times` times. */
function refreshes(times: number): { onRefreshed: () => void; done: Promise<void> } {
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  let seen = 0;
  return {
    onRefreshed: () => {
      seen += 1;
      if (seen === times) resolve();
    },
    done,
  };
}

describe('MemoryLeaseStore', () => {
  it('grants a key to one holder at a time, and to the next once it is released', async () => {
    const store = new MemoryLeaseStore();
    const first = await store.acquire('k', { ttlMs: 60_000 });
    expect(first).toBeDefined();
    expect(await store.acquire('k', { ttlMs: 60_000 })).toBeUndefined();
    expect(await store.isHeld('k')).toBe(true);
    expect(await store.isHeld('other')).toBe(false);
    await first!.release();
    expect(await store.isHeld('k')).toBe(false);
    const second = await store.acquire('k', { ttlMs: 60_000 });
    expect(second).toBeDefined();
    expect(second!.token).not.toBe(first!.token);
    await second!.release();
  });

  it('lets a lease lapse when its holder stops refreshing, and not before', async () => {
    const clock = manualClock();
    const store = new MemoryLeaseStore(clock.now);
    const lease = await store.acquire('k', { ttlMs: 15_000 });
    lease!.abandon();
    clock.advance(14_999);
    expect(await store.isHeld('k')).toBe(true);
    expect(await store.acquire('k', { ttlMs: 15_000 })).toBeUndefined();
    clock.advance(2);
    expect(await store.isHeld('k')).toBe(false);
    expect(await store.acquire('k', { ttlMs: 15_000 })).toBeDefined();
  });

  it('refreshes only its own lease, and a stale holder can neither extend nor delete the next one (compare-and-delete)', async () => {
    const clock = manualClock();
    const store = new MemoryLeaseStore(clock.now);
    // Its heartbeat would not come round before the clock is moved past the TTL: a holder that stalled.
    const stale = (await store.acquire('k', { ttlMs: 1_000, refreshEveryMs: 60_000 }))!;
    clock.advance(1_001);
    const current = (await store.acquire('k', { ttlMs: 1_000, refreshEveryMs: 60_000 }))!;
    expect(await stale.refresh()).toBe(false);
    await stale.release();
    expect(await store.isHeld('k')).toBe(true);
    expect(await current.refresh()).toBe(true);
    await current.release();
    expect(await store.isHeld('k')).toBe(false);
  });

  it('keeps a lease past its TTL while the heartbeat refreshes it', async () => {
    const store = new MemoryLeaseStore();
    const beats = refreshes(4);
    const started = performance.now();
    const lease = await store.acquire('k', { ttlMs: 60, refreshEveryMs: 20, onRefreshed: beats.onRefreshed });
    await beats.done;
    expect(performance.now() - started).toBeGreaterThanOrEqual(60);
    expect(await store.isHeld('k')).toBe(true);
    await lease!.release();
  });

  it('tells the holder when its lease was lost to another', async () => {
    const clock = manualClock();
    const store = new MemoryLeaseStore(clock.now);
    let lost: () => void = () => undefined;
    const wasLost = new Promise<void>((resolve) => (lost = resolve));
    const first = await store.acquire('k', { ttlMs: 1_000, refreshEveryMs: 5, onLost: lost });
    clock.advance(1_001);
    const second = await store.acquire('k', { ttlMs: 1_000 });
    expect(second).toBeDefined();
    await wasLost;
    await first!.release();
    expect(await store.isHeld('k')).toBe(true);
    await second!.release();
  });

  it('counts: takes one of N slots per key, each an ordinary lease', async () => {
    const store = new MemoryLeaseStore();
    const slots = await Promise.all([1, 2, 3, 4].map(() => store.acquireSlot('client', 3, { ttlMs: 60_000 })));
    expect(slots.filter((slot) => slot !== undefined).map((slot) => slot.key)).toEqual(['client:0', 'client:1', 'client:2']);
    expect(slots[3]).toBeUndefined();
    expect(await store.heldSlots('client', 3)).toBe(3);
    await slots[1]!.release();
    expect(await store.heldSlots('client', 3)).toBe(2);
    const again = await store.acquireSlot('client', 3, { ttlMs: 60_000 });
    expect(again!.key).toBe('client:1');
    for (const slot of [slots[0], slots[2], again]) await slot!.release();
    expect(await store.heldSlots('client', 3)).toBe(0);
  });
});

describe('acquireWithin (the bounded acquire)', () => {
  it('gives up after its time, and gives back a grant that arrives after that', async () => {
    let grant: (lease: HeldLease | undefined) => void = () => undefined;
    const late = new Promise<HeldLease | undefined>((resolve) => (grant = resolve));
    await expect(acquireWithin(late, 10, 'the test store')).rejects.toThrow('the test store did not answer within 10 ms');

    const store = new MemoryLeaseStore();
    const lease = await store.acquire('k', { ttlMs: 60_000 });
    let released: () => void = () => undefined;
    const wasReleased = new Promise<void>((resolve) => (released = resolve));
    grant({ ...lease!, release: () => lease!.release().then(released) });
    await wasReleased;
    expect(await store.isHeld('k')).toBe(false);
  });

  it('hands over a grant that arrives in time', async () => {
    const store = new MemoryLeaseStore();
    const lease = await acquireWithin(store.acquire('k', { ttlMs: 60_000 }), 1_000, 'the test store');
    expect(lease).toBeDefined();
    expect(await store.isHeld('k')).toBe(true);
    await lease!.release();
  });
});
