import request from 'supertest';
import { fixture } from '../support/fixtures';
import { type Harness, startHarness } from '../support/proxy-harness';
import { type RedisServer, startRedisServer } from '../support/redis-server';

const png = fixture('sample.png');

function uploadTo(harness: Harness) {
  return request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' });
}

describe('rate limits shared through a real Redis', () => {
  let redis: RedisServer;
  let first: Harness;
  let second: Harness;

  beforeAll(async () => {
    redis = await startRedisServer();
    const env = { REDIS_URL: redis.url, RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' };
    first = await startHarness(env);
    second = await startHarness(env);
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await redis.stop();
  });

  it('gives a client one budget across two replicas', async () => {
    expect((await uploadTo(first)).status).toBe(201);
    expect((await uploadTo(second)).status).toBe(201);
    expect((await uploadTo(first)).status).toBe(201);
    const limitedOnSecond = await uploadTo(second);
    expect(limitedOnSecond.status).toBe(429);
    expect(limitedOnSecond.headers['retry-after']).toBeDefined();
    expect((await uploadTo(first)).status).toBe(429);
  });

  it('reports the shared state (Redis) in readiness', async () => {
    const ready = await request(first.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body as { checks: Record<string, string> }).checks.shared_state).toBe('redis');
  });

  it('keeps a per-replica budget and says so when Redis goes away', async () => {
    await redis.stop();
    const ready = await request(first.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body as { checks: Record<string, string> }).checks.shared_state).toMatch(/^degraded/);

    // The local budget starts afresh but is still a budget: 3 pass, the 4th is refused.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await uploadTo(first)).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    expect(first.logs.text).toContain('per-replica');
  });
});

describe('a replica started while Redis is unreachable', () => {
  let harness: Harness;
  beforeAll(async () => {
    // A port nothing listens on: connecting fails at once, and the store's start-up calls fail.
    const nobody = await startRedisServer();
    await nobody.stop();
    harness = await startHarness({ REDIS_URL: nobody.url, RATE_LIMIT_MAX: '1' });
  });
  afterAll(() => harness.close());

  it('starts, serves with a per-replica budget, and says so in readiness', async () => {
    const ready = await request(harness.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect((ready.body as { checks: Record<string, string> }).checks.shared_state).toMatch(/^degraded/);
    expect((await uploadTo(harness)).status).toBe(201);
    expect((await uploadTo(harness)).status).toBe(429);
  });
});
