import type { IdempotencyStore } from '../../src/http/idempotency/idempotency-store';

export const RESPONSE = { status: 201, body: { id: 'asset-1', file_type: 'image', url: 'https://x/1', image_key: null, created_ts: 1 } };

/** The behaviour every store must have; run against each implementation below. */
export function storeContract(makeStore: () => IdempotencyStore): void {
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

