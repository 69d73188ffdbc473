import type { RedisConnection } from '../../src/state/redis-connection';
import { LEASE_KEY_PREFIX, RedisLeaseStore } from '../../src/state/redis-lease-store';
import { type RedisServer, startRedisServer } from '../support/redis-server';

/** Redis's expiry is lazy plus a 10 Hz sweep; EXISTS forces the lazy check. Bounded polling on Redis itself. */
async function waitUntilGone(client: RedisConnection, key: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (performance.now() < deadline) {
    if ((await client.exists(key)) === 0) return;
  }
  throw new Error(`${key} never expired`);
}

/** Resolves after the lease's heartbeat has kept it `times` times. */
function refreshes(times: number): { onRefreshed: () => void; done: Promise<void> } {
  let resolve: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolve = r));
  let seen = 0;
  return { onRefreshed: () => (seen += 1) === times && resolve(), done };
}

describe('RedisLeaseStore against a real redis-server', () => {
  let redis: RedisServer;
  let one: RedisConnection;
  let two: RedisConnection;
  /** Two replicas' stores, each on its own connection. */
  let a: RedisLeaseStore;
  let b: RedisLeaseStore;

  beforeAll(async () => {
    redis = await startRedisServer();
    one = await redis.client();
    two = await redis.client();
    a = new RedisLeaseStore(one, { answerWithinMs: 2_000 });
    b = new RedisLeaseStore(two, { answerWithinMs: 2_000 });
  });
  afterAll(() => redis?.stop());
  beforeEach(() => one.flushAll());

  it('grants a key to one replica at a time, with a PX expiry, and to the other once released', async () => {
    const held = await a.acquire('k', { ttlMs: 15_000 });
    expect(held).toBeDefined();
    expect(await b.acquire('k', { ttlMs: 15_000 })).toBeUndefined();
    expect(await b.isHeld('k')).toBe(true);
    const ttl = await one.pTTL(`${LEASE_KEY_PREFIX}k`);
    expect(ttl).toBeGreaterThan(10_000);
    expect(ttl).toBeLessThanOrEqual(15_000);
    await held!.release();
    expect(await b.isHeld('k')).toBe(false);
    const next = await b.acquire('k', { ttlMs: 15_000 });
    expect(next).toBeDefined();
    await next!.release();
  });

  it('lets exactly one of many simultaneous acquires from two replicas win', async () => {
    const grants = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).acquire('race', { ttlMs: 15_000 })));
    expect(grants.filter((grant) => grant !== undefined)).toHaveLength(1);
    for (const grant of grants) await grant?.release();
  });

  it('expires once its holder stops refreshing (a replica that died), by Redis’s clock alone', async () => {
    const dead = await a.acquire('k', { ttlMs: 200 });
    dead!.abandon();
    expect(await b.acquire('k', { ttlMs: 200 })).toBeUndefined();
    await waitUntilGone(two, `${LEASE_KEY_PREFIX}k`);
    const taken = await b.acquire('k', { ttlMs: 15_000 });
    expect(taken).toBeDefined();
    await taken!.release();
  });

  it('stays held past its TTL while the heartbeat refreshes it', async () => {
    const beats = refreshes(4);
    const started = performance.now();
    const lease = await a.acquire('k', { ttlMs: 150, refreshEveryMs: 50, onRefreshed: beats.onRefreshed });
    await beats.done;
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(await b.isHeld('k')).toBe(true);
    await lease!.release();
  });

  it('compare-and-delete: a holder whose lease expired can neither refresh nor delete the next holder’s, and hears it was lost', async () => {
    let lost: () => void = () => undefined;
    const wasLost = new Promise<void>((resolve) => (lost = resolve));
    // Its heartbeat comes round only after the TTL: a holder that stalled.
    const stale = await a.acquire('k', { ttlMs: 100, refreshEveryMs: 400, onLost: lost });
    await waitUntilGone(one, `${LEASE_KEY_PREFIX}k`);
    const current = await b.acquire('k', { ttlMs: 15_000 });
    expect(current).toBeDefined();
    expect(await stale!.refresh()).toBe(false);
    await wasLost;
    await stale!.release();
    expect(await b.isHeld('k')).toBe(true);
    expect(await one.get(`${LEASE_KEY_PREFIX}k`)).toBe(current!.token);
    await current!.release();
    expect(await a.isHeld('k')).toBe(false);
  });

  it('counts: of many simultaneous slot acquires from two replicas, exactly N win, each on its own slot', async () => {
    const grants = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).acquireSlot('client', 3, { ttlMs: 15_000 })));
    const won = grants.filter((grant) => grant !== undefined);
    expect(won.map((grant) => grant.key).sort()).toEqual(['client:0', 'client:1', 'client:2']);
    expect(await a.heldSlots('client', 3)).toBe(3);
    await won[0]!.release();
    expect(await b.heldSlots('client', 3)).toBe(2);
    const again = await b.acquireSlot('client', 3, { ttlMs: 15_000 });
    expect(again!.key).toBe(won[0]!.key);
    for (const grant of [...won.slice(1), again]) await grant!.release();
    expect(await a.heldSlots('client', 3)).toBe(0);
  });

  it('gives back a grant Redis makes after the caller stopped waiting', async () => {
    const events = one.duplicate();
    await events.connect();
    try {
      await one.configSet('notify-keyspace-events', 'Eg$');
      const key = `${LEASE_KEY_PREFIX}late`;
      const seen: string[] = [];
      let deleted: () => void = () => undefined;
      const wasDeleted = new Promise<void>((resolve) => (deleted = resolve));
      await events.subscribe(['__keyevent@0__:set', '__keyevent@0__:del'], (message, channel) => {
        if (message !== key) return;
        seen.push(channel.endsWith(':set') ? 'set' : 'del');
        if (channel.endsWith(':del')) deleted();
      });
      const impatient = new RedisLeaseStore(two, { answerWithinMs: 50 });
      // Writes wait while Redis is paused: the grant comes after the caller gave up.
      await one.sendCommand(['CLIENT', 'PAUSE', '300', 'WRITE']);
      await expect(impatient.acquire('late', { ttlMs: 60_000 })).rejects.toThrow('did not answer within 50 ms');
      await wasDeleted;
      expect(seen).toEqual(['set', 'del']);
      expect(await a.isHeld('late')).toBe(false);
    } finally {
      await events.close();
    }
  });
});
