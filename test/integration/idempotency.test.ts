import { createIdempotencyStore } from '../../src/http/idempotency/create-idempotency-store';
import { createLogger } from '../../src/ops/logger';
import type { RedisConnection } from '../../src/state/redis-connection';
import { createSharedState } from '../../src/state/shared-state';
import { fixture } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, post, type RawResponse } from '../support/raw-http';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { nextEvent } from '../support/wait';

const png = fixture('sample.png');

function pngForm() {
  return multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
}

function upload(harness: Harness, headers: Record<string, string> = {}): Promise<RawResponse> {
  const form = pngForm();
  return post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType, ...headers });
}

/** Starts an upload whose answer the test collects later (the stand-in may be told to hang). */
function startUpload(harness: Harness, headers: Record<string, string>) {
  const form = pngForm();
  const pending = openPost(harness.uploadUrl, { 'Content-Type': form.contentType, 'Content-Length': String(form.body.length), ...headers });
  pending.req.end(form.body);
  return pending.response;
}

/** Idempotency on a Redis connection of the test's own, as a replica builds it. */
function redisIdempotency(client: RedisConnection) {
  return createIdempotencyStore(createSharedState(client, createLogger('silent')));
}

function errorCode(response: RawResponse): unknown {
  return (response.json as { error?: { code?: string } } | undefined)?.error?.code;
}

describe('Idempotency-Key on one replica (memory store)', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_TIMEOUT_MS: '1000', TRUST_PROXY: 'true' });
  });
  afterAll(() => harness.close());
  beforeEach(() => {
    harness.standIn.received.length = 0;
    harness.standIn.setFault('none');
  });

  it('replays a completed upload without uploading again', async () => {
    const first = await upload(harness, { 'Idempotency-Key': 'replay-1' });
    const second = await upload(harness, { 'Idempotency-Key': 'replay-1' });
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(second.status).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json).toEqual(first.json);
    expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
    expect(harness.standIn.received).toHaveLength(1);
  });

  it('replays only for the same file: another file under a used key is 422 IDEMPOTENCY_KEY_REUSED and gets no record', async () => {
    const first = await upload(harness, { 'Idempotency-Key': 'bound-1' });
    expect(first.status).toBe(201);
    const jpg = fixture('sample.jpg');
    const other = multipartBody([{ name: 'file', filename: 'b.jpg', contentType: 'image/jpeg', data: jpg.bytes }]);
    const reused = await post(harness.uploadUrl, other.body, { 'Content-Type': other.contentType, 'Idempotency-Key': 'bound-1' });
    expect(reused.status).toBe(422);
    expect(errorCode(reused)).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(reused.text).not.toContain((first.json as { id: string }).id);
    // An HTML page sent under the key is refused for what it is, and learns nothing either.
    const page = multipartBody([{ name: 'file', filename: 'x.html', contentType: 'text/html', data: '<html><body>hi</body></html>' }]);
    const html = await post(harness.uploadUrl, page.body, { 'Content-Type': page.contentType, 'Idempotency-Key': 'bound-1' });
    expect(html.status).toBe(415);
    expect(html.text).not.toContain((first.json as { id: string }).id);
    // The key still replays for its own file.
    const same = await upload(harness, { 'Idempotency-Key': 'bound-1' });
    expect(same.headers['idempotent-replayed']).toBe('true');
    expect(same.json).toEqual(first.json);
    expect(harness.standIn.received).toHaveLength(1);
  });

  it('uploads each time without a key, and for each distinct key', async () => {
    await upload(harness);
    await upload(harness);
    await upload(harness, { 'Idempotency-Key': 'distinct-a' });
    await upload(harness, { 'Idempotency-Key': 'distinct-b' });
    expect(harness.standIn.received).toHaveLength(4);
  });

  it('keeps one client’s keys apart from another’s', async () => {
    const a = await upload(harness, { 'Idempotency-Key': 'shared-name', 'X-Forwarded-For': '198.51.100.1' });
    const b = await upload(harness, { 'Idempotency-Key': 'shared-name', 'X-Forwarded-For': '198.51.100.2' });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBeUndefined();
    expect(harness.standIn.received).toHaveLength(2);
  });

  it.each([
    ['empty', ''],
    ['too long', 'k'.repeat(256)],
    ['a space', 'has space'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'clé'],
  ])('refuses a key with %s (400) and forwards nothing', async (_label, key) => {
    const response = await upload(harness, { 'Idempotency-Key': key });
    expect(response.status).toBe(400);
    expect(errorCode(response)).toBe('INVALID_IDEMPOTENCY_KEY');
    expect(harness.standIn.received).toHaveLength(0);
  });

  it('accepts a key of exactly 255 allowed characters', async () => {
    const response = await upload(harness, { 'Idempotency-Key': `A-z_0:9.${'x'.repeat(247)}` });
    expect(response.status).toBe(201);
  });

  it('answers 409 while the first attempt is in flight, then frees the key when it fails', async () => {
    harness.standIn.setFault('hang', 1);
    const upstreamHasIt = nextEvent(harness.standIn.events, 'received');
    const first = startUpload(harness, { 'Idempotency-Key': 'in-flight-1' });
    await upstreamHasIt;

    const second = await upload(harness, { 'Idempotency-Key': 'in-flight-1' });
    expect(second.status).toBe(409);
    expect(errorCode(second)).toBe('IDEMPOTENCY_CONFLICT');

    expect((await first).status).toBe(504);
    const retry = await upload(harness, { 'Idempotency-Key': 'in-flight-1' });
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(harness.standIn.received).toHaveLength(2);
  });

  it('stores only successes: a failed attempt may be retried with the same key', async () => {
    harness.standIn.setFault('status-500', 1);
    const failed = await upload(harness, { 'Idempotency-Key': 'failed-once' });
    expect(failed.status).toBe(502);
    const retried = await upload(harness, { 'Idempotency-Key': 'failed-once' });
    expect(retried.status).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(harness.standIn.received).toHaveLength(2);
  });

  it('does not store a refusal of the client’s own file', async () => {
    const form = multipartBody([{ name: 'file', filename: 'a.txt', contentType: 'text/plain', data: 'hello' }]);
    const refused = await post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType, 'Idempotency-Key': 'refused' });
    expect(refused.status).toBe(415);
    expect((await upload(harness, { 'Idempotency-Key': 'refused' })).status).toBe(201);
  });
});

describe('Idempotency-Key across two replicas sharing one Redis', () => {
  let redis: RedisServer;
  let first: Harness;
  let second: Harness;
  beforeAll(async () => {
    redis = await startRedisServer();
    first = await startHarness({ UPSTREAM_TIMEOUT_MS: '1000' }, { idempotency: redisIdempotency(await redis.client()) });
    second = await startHarness({ UPSTREAM_TIMEOUT_MS: '1000' }, { idempotency: redisIdempotency(await redis.client()) });
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await redis?.stop();
  });

  it('replays on one replica what the other uploaded', async () => {
    const original = await upload(first, { 'Idempotency-Key': 'cross-replica' });
    const replay = await upload(second, { 'Idempotency-Key': 'cross-replica' });
    expect(original.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json).toEqual(original.json);
    expect(first.standIn.received).toHaveLength(1);
    expect(second.standIn.received).toHaveLength(0);
  });

  it('answers 409 on one replica while the other is still uploading', async () => {
    first.standIn.setFault('hang', 1);
    const upstreamHasIt = nextEvent(first.standIn.events, 'received');
    const pending = startUpload(first, { 'Idempotency-Key': 'cross-in-flight' });
    await upstreamHasIt;
    const conflict = await upload(second, { 'Idempotency-Key': 'cross-in-flight' });
    expect(conflict.status).toBe(409);
    expect(errorCode(conflict)).toBe('IDEMPOTENCY_CONFLICT');
    expect(conflict.headers['retry-after']).toBe('5');
    expect((await pending).status).toBe(504);
    expect((await upload(second, { 'Idempotency-Key': 'cross-in-flight' })).status).toBe(201);
  });

  it('answers 503, not an unkeyed upload, when Redis is gone; unkeyed uploads go on', async () => {
    const client = await redis.client();
    const store = redisIdempotency(client);
    const isolated = await startHarness({}, { idempotency: store });
    try {
      await client.close();
      const keyed = await upload(isolated, { 'Idempotency-Key': 'no-redis' });
      expect(keyed.status).toBe(503);
      expect(errorCode(keyed)).toBe('IDEMPOTENCY_UNAVAILABLE');
      expect(isolated.standIn.received).toHaveLength(0);
      expect((await upload(isolated)).status).toBe(201);
    } finally {
      await isolated.close();
    }
  });
});
