import { createUploadLeaseStore, UPLOAD_LEASE_KEY_PREFIX, UPLOAD_LEASE_TTL_MS } from '../../src/http/client-uploads/create-upload-lease-store';
import type { RedisConnection } from '../../src/state/redis-connection';
import { LEASE_KEY_PREFIX, RedisLeaseStore } from '../../src/state/redis-lease-store';
import { withTimeout } from '../../src/with-timeout';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, post, type RawResponse } from '../support/raw-http';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;
const mp4 = fixture('sample.mp4');
const png = fixture('sample.png');
/** Both proxies see the test as the same client: loopback, no trusted proxy. */
const CLIENT_KEY = 'ip:127.0.0.1';

/** An upload that sends enough to be spooled, then holds its slot open. */
function openSlowUpload(harness: Harness) {
  const framing = singleFileFraming('slow.mp4', 'video/mp4');
  const upload = openPost(harness.uploadUrl, {
    'Content-Type': framing.contentType,
    'Content-Length': String(framing.head.length + 4 * MIB + framing.tail.length),
  });
  upload.req.write(framing.head);
  upload.req.write(paddedFile(mp4, 1536 * 1024));
  return upload;
}

function uploadPng(harness: Harness): Promise<RawResponse> {
  const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
  return withTimeout(post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType }), 5_000, 'no answer within 5 s');
}

function codeOf(answer: RawResponse): string {
  return (answer.json as { error: { code: string } }).error.code;
}

describe('the per-client cap on uploads in progress, shared through a real Redis', () => {
  let redis: RedisServer;
  let first: Harness;
  let second: Harness;
  let client: RedisConnection;
  const open: Array<ReturnType<typeof openSlowUpload>> = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    client = await redis.client();
    const env = { REDIS_URL: redis.url, MAX_UPLOADS_PER_CLIENT: '2' };
    first = await startHarness(env);
    second = await startHarness(env);
  });
  afterEach(async () => {
    for (const { req } of open.splice(0)) req.destroy();
    await first.server.deps.gate.idle();
    await second.server.deps.gate.idle();
  });
  afterAll(async () => {
    await first.close();
    await second.close();
    await redis.stop();
  });

  it('counts a client once across two replicas', async () => {
    const onFirst = openSlowUpload(first);
    const onSecond = openSlowUpload(second);
    open.push(onFirst, onSecond);
    await waitForDirectory(first.spoolDir, (entries) => entries.length === 1);
    await waitForDirectory(second.spoolDir, (entries) => entries.length === 1);
    expect(await first.server.deps.uploadLeases.held(CLIENT_KEY, 2)).toBe(2);

    // Each replica holds one of the client's two slots, so neither may start a third upload.
    for (const replica of [first, second]) {
      const refused = await uploadPng(replica);
      expect(refused.status).toBe(429);
      expect(codeOf(refused)).toBe('TOO_MANY_UPLOADS_IN_PROGRESS');
      expect(refused.headers['retry-after']).toBe('5');
    }

    // When one ends, its slot is given back, and the next upload goes through.
    onFirst.req.destroy();
    await first.server.deps.gate.idle();
    expect((await uploadPng(first)).status).toBe(201);
  });

  it('keeps each slot in Redis with an expiry, so a replica that dies mid-upload cannot leak one', async () => {
    const slot = (n: number) => `${LEASE_KEY_PREFIX}${UPLOAD_LEASE_KEY_PREFIX}${CLIENT_KEY}:${n}`;
    open.push(openSlowUpload(first));
    await waitForDirectory(first.spoolDir, (entries) => entries.length === 1);
    const ttl = Number(await client.sendCommand(['PTTL', slot(0)]));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(UPLOAD_LEASE_TTL_MS);

    // A replica that crashed left its slot behind, no longer refreshed: it counts until it lapses, then not.
    await client.sendCommand(['SET', slot(1), 'lease-of-a-crashed-replica', 'PX', '300']);
    expect(await first.server.deps.uploadLeases.held(CLIENT_KEY, 2)).toBe(2);
    expect((await uploadPng(second)).status).toBe(429);
    const deadline = performance.now() + 5_000;
    while ((await client.exists(slot(1))) === 1 && performance.now() < deadline);
    expect(await first.server.deps.uploadLeases.held(CLIENT_KEY, 2)).toBe(1);
    expect((await uploadPng(second)).status).toBe(201);
  });

  it('takes a slot only while one is free, whatever the order of replicas asking', async () => {
    const store = createUploadLeaseStore(new RedisLeaseStore(client, { answerWithinMs: 2_000 }));
    const leases = await Promise.all(Array.from({ length: 10 }, () => store.acquire('ip:203.0.113.9', 3)));
    expect(leases.filter((lease) => lease !== undefined)).toHaveLength(3);
    for (const lease of leases) lease?.release();
    await store.acquire('ip:203.0.113.9', 3).then((lease) => lease?.release());
    // Releases are sent without waiting for their answers, on the connection this count then goes down.
    expect(await store.held('ip:203.0.113.9', 3)).toBe(0);
  });

  it('falls back to a per-replica cap when Redis goes away', async () => {
    await redis.stop();
    const slow = [openSlowUpload(first), openSlowUpload(first)];
    open.push(...slow);
    await waitForDirectory(first.spoolDir, (entries) => entries.length === 2);
    const refused = await uploadPng(first);
    expect(refused.status).toBe(429);
    expect(codeOf(refused)).toBe('TOO_MANY_UPLOADS_IN_PROGRESS');
    // The other replica has its own count meanwhile.
    expect((await uploadPng(second)).status).toBe(201);
  });
});
