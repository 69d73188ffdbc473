import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StandInHeygenV3, startStandInHeygenV3 } from '../../src/dev/stand-in-heygen-v3';
import { RedisLocker } from '../../src/intake/resumable/redis-locker';
import { createLogger } from '../../src/ops/logger';
import { closeRedis, connectRedis, createRedisConnection } from '../../src/state/redis-connection';
import { RedisLeaseStore } from '../../src/state/redis-lease-store';
import { sha256 } from '../support/fixtures';
import { startV3Harness, startV3ProxyFor, TEST_API_KEY, type V3Harness } from '../support/proxy-harness';
import type { RedisServer } from '../support/redis-server';
import { startServerProcess } from '../support/server-process';
import { sizedMedia } from '../support/sized-media';
import { codeOf, createUpload, patchAll, patchChunk, tusRequest, waitForFileSize } from '../support/tus';
import { nextEvent, waitForDirectory } from '../support/wait';
import { killMidPatch, startTwoReplicas, type TwoReplicas } from '../support/replicas';

const MIB = 1024 * 1024;

/** Moves an upload's creation back in time, as if `ageMs` had passed (the store keeps it in <id>.json). */
async function age(dir: string, id: string, ageMs: number): Promise<void> {
  const path = join(dir, `${id}.json`);
  const info = JSON.parse(await readFile(path, 'utf8')) as { creation_date: string };
  info.creation_date = new Date(Date.now() - ageMs).toISOString();
  await writeFile(path, JSON.stringify(info));
}

describe('resumable uploads: expiry and cleanup', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-expiry-'));
    // The timer is out of the way here; the test calls cleanup() itself (the timer has its own test).
    harness = await startV3Harness({ RESUMABLE_DIR: dir, RESUMABLE_EXPIRY_MS: '60000', RESUMABLE_CLEANUP_INTERVAL_MS: '3600000' });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('says when an unfinished upload expires, answers 410 after that, and the cleanup removes its bytes', async () => {
    const bytes = sizedMedia('video/mp4', 2 * MIB);
    const created = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    const expires = Date.parse(String(created.response.headers['upload-expires']));
    expect(expires).toBeGreaterThan(Date.now() + 50_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 61_000);
    expect((await patchChunk(created.url, 0, bytes.subarray(0, MIB))).status).toBe(204);

    await age(dir, created.id, 61_000);
    const late = await patchChunk(created.url, MIB, bytes.subarray(MIB));
    expect(late.status).toBe(410);
    expect(codeOf(late)).toBe('UPLOAD_EXPIRED');
    expect(codeOf(await tusRequest(created.url, 'GET'))).toBe('UPLOAD_EXPIRED');
    expect(await harness.server.deps.resumable.cleanup()).toEqual({ expired: 1, records: 0 });
    const left = await readdir(dir);
    expect(left).not.toContain(created.id);
    expect(left).not.toContain(`${created.id}.json`);
    expect(codeOf(await tusRequest(created.url, 'GET'))).toBe('UPLOAD_NOT_FOUND');
  });

  it('cleanup() leaves uploads that have not expired and finished records alone', async () => {
    const bytes = sizedMedia('image/png', 20_000);
    const open = await createUpload(harness.url, bytes.length, { filetype: 'image/png' });
    const done = await createUpload(harness.url, bytes.length, { filetype: 'image/png' });
    expect((await patchAll(done.url, bytes, bytes.length)).at(-1)!.status).toBe(200);
    expect(await harness.server.deps.resumable.cleanup()).toEqual({ expired: 0, records: 0 });
    expect(await readdir(dir)).toContain(open.id);
    expect((await tusRequest(done.url, 'GET')).status).toBe(200);
    await tusRequest(open.url, 'DELETE');
  });
});

describe('resumable uploads: the periodic cleanup', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-timer-'));
    harness = await startV3Harness({ RESUMABLE_DIR: dir, RESUMABLE_EXPIRY_MS: '60000', RESUMABLE_CLEANUP_INTERVAL_MS: '100' });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('removes an expired upload by itself, every RESUMABLE_CLEANUP_INTERVAL_MS', async () => {
    const bytes = sizedMedia('video/mp4', 2 * MIB);
    const created = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    expect((await patchChunk(created.url, 0, bytes.subarray(0, MIB))).status).toBe(204);
    await age(dir, created.id, 61_000);
    // Wait on the directory, not on the clock.
    await waitForDirectory(dir, (entries) => !entries.includes(created.id) && !entries.includes(`${created.id}.json`));
    expect(codeOf(await tusRequest(created.url, 'GET'))).toBe('UPLOAD_NOT_FOUND');
  });
});

describe('resumable uploads across a graceful shutdown', () => {
  let standIn: StandInHeygenV3;
  let dir: string;
  beforeAll(async () => {
    standIn = await startStandInHeygenV3({ apiKey: TEST_API_KEY });
    dir = await mkdtemp(join(tmpdir(), 'resumable-shutdown-'));
  });
  afterAll(async () => {
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a chunk cut off when the grace period ends is resumable on the next process', async () => {
    const first = await startV3ProxyFor(standIn, { RESUMABLE_DIR: dir, SHUTDOWN_GRACE_MS: '0' });
    const bytes = sizedMedia('video/mp4', 8 * MIB);
    const created = await createUpload(first.url, bytes.length, { filetype: 'video/mp4' });
    const path = new URL(created.url).pathname;
    const req = http.request(created.url, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': bytes.length },
    });
    const cut = new Promise<void>((resolve) => req.once('error', () => resolve()));
    req.write(bytes.subarray(0, 4 * MIB));
    await waitForFileSize(join(dir, created.id), MIB);
    await first.close();
    await cut;

    const second = await startV3ProxyFor(standIn, { RESUMABLE_DIR: dir });
    try {
      const offset = Number((await tusRequest(`${second.url}${path}`, 'HEAD')).headers['upload-offset']);
      expect(offset).toBeGreaterThanOrEqual(MIB);
      const answers = await patchAll(`${second.url}${path}`, bytes, 4 * MIB, offset);
      expect(answers.at(-1)!.status).toBe(200);
      expect(standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    } finally {
      await second.close();
    }
  });
});

describe('resumable uploads across a restart of the real entry point', () => {
  let standIn: StandInHeygenV3;
  let dir: string;
  beforeAll(async () => {
    standIn = await startStandInHeygenV3({ apiKey: TEST_API_KEY });
    dir = await mkdtemp(join(tmpdir(), 'resumable-restart-'));
  });
  afterAll(async () => {
    await standIn.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('SIGKILLed mid-chunk, started again on the same directory: the upload resumes from the stored offset, one asset, byte for byte', async () => {
    const env = { HEYGEN_API_KEY: TEST_API_KEY, HEYGEN_API_BASE_URL: standIn.url, HOST: '127.0.0.1', PORT: '0', RESUMABLE_DIR: dir };
    const first = await startServerProcess(env);
    const bytes = sizedMedia('video/mp4', 12 * MIB);
    const created = await createUpload(first.url, bytes.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    expect(created.response.status).toBe(201);

    await killMidPatch(first, created.url, bytes, () => waitForFileSize(join(dir, created.id), 2 * MIB));

    const second = await startServerProcess(env);
    try {
      const uploadUrl = `${second.url}/v1/uploads/${created.id}`;
      const head = await tusRequest(uploadUrl, 'HEAD');
      expect(head.status).toBe(200);
      const offset = Number(head.headers['upload-offset']);
      expect(offset).toBeGreaterThanOrEqual(2 * MIB);
      expect(offset).toBeLessThanOrEqual(8 * MIB);
      const assetsBefore = standIn.assetsCreated();
      const answers = await patchAll(uploadUrl, bytes, 4 * MIB, offset);
      expect(answers.at(-1)!.status).toBe(200);
      expect(standIn.assetsCreated()).toBe(assetsBefore + 1);
      const put = standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
      expect(put.sha256).toBe(sha256(bytes));
      expect(put.idempotencyKey).toBe(`hup-tus-${created.id}`);
    } finally {
      const exited2 = once(second.child, 'exit');
      second.child.kill('SIGTERM');
      await exited2;
    }
  });
});

describe('resumable uploads on two replicas sharing the directory and a real Redis', () => {
  let replicas: TwoReplicas;
  let redis: RedisServer;
  let standIn: StandInHeygenV3;
  let dir: string;
  let a: V3Harness;
  let b: V3Harness;
  beforeAll(async () => {
    replicas = await startTwoReplicas('resumable-replicas', { UPSTREAM_TIMEOUT_MS: '1500' });
    ({ redis, standIn, dir, a, b } = replicas);
  });
  afterAll(() => replicas.close());

  it('takes chunks of one upload alternately on both replicas: one asset, byte for byte, the record on both', async () => {
    const bytes = sizedMedia('video/webm', 10 * MIB);
    const created = await createUpload(a.url, bytes.length, { filename: 'talk.webm', filetype: 'video/webm' });
    const path = new URL(created.url).pathname;
    const assetsBefore = standIn.assetsCreated();
    const chunk = MIB;
    const answers = [];
    for (let at = 0, turn = 0; at < bytes.length; at += chunk, turn += 1) {
      const answer = await patchChunk(`${(turn % 2 === 0 ? a : b).url}${path}`, at, bytes.subarray(at, at + chunk));
      expect(answer.status).toBe(at + chunk >= bytes.length ? 200 : 204);
      answers.push(answer);
    }
    const last = answers.at(-1)!;
    expect(standIn.assetsCreated()).toBe(assetsBefore + 1);
    expect(standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    const onA = await tusRequest(`${a.url}${path}`, 'GET');
    const onB = await tusRequest(`${b.url}${path}`, 'GET');
    expect(onA.json).toEqual(last.json);
    expect(onB.json).toEqual(last.json);
  });

  it('resumes on one replica an upload whose chunk was cut off on the other (the Redis lock is handed over)', async () => {
    const bytes = sizedMedia('audio/mpeg', 6 * MIB);
    const created = await createUpload(a.url, bytes.length, { filetype: 'audio/mpeg' });
    const path = new URL(created.url).pathname;
    const req = http.request(`${a.url}${path}`, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': bytes.length },
    });
    req.on('error', () => undefined);
    req.write(bytes.subarray(0, 3 * MIB));
    await waitForFileSize(join(dir, created.id), MIB);
    req.destroy();
    const head = await tusRequest(`${b.url}${path}`, 'HEAD');
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(MIB);
    const answers = await patchAll(`${b.url}${path}`, bytes, 2 * MIB, offset);
    expect(answers.at(-1)!.status).toBe(200);
    expect(standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
  });

  it('the Redis locker lets one holder at a time, asks the holder to let go, and hands over on unlock', async () => {
    const one = createRedisConnection(redis.url, createLogger('silent'));
    const two = createRedisConnection(redis.url, createLogger('silent'));
    await connectRedis(one);
    await connectRedis(two);
    try {
      const options = { ttlMs: 300, acquireTimeoutMs: 5_000, retryMs: 10 };
      const held = new RedisLocker(new RedisLeaseStore(one, { answerWithinMs: 2_000 }), options).newLock('upload-x');
      const asked = new Promise<void>((resolve) => void held.lock(new AbortController().signal, resolve));
      // The first lock() resolves at once (nobody holds it); its requestRelease resolves `asked`.
      const waiter = new RedisLocker(new RedisLeaseStore(two, { answerWithinMs: 2_000 }), options).newLock('upload-x');
      let acquired = false;
      const waiting = waiter.lock(new AbortController().signal, () => undefined).then(() => (acquired = true));
      await asked;
      expect(acquired).toBe(false);
      await held.unlock();
      await waiting;
      expect(acquired).toBe(true);
      await waiter.unlock();
      const timedOut = new RedisLocker(new RedisLeaseStore(two, { answerWithinMs: 2_000 }), { ...options, acquireTimeoutMs: 50 });
      const again = timedOut.newLock('upload-y');
      await again.lock(new AbortController().signal, () => undefined);
      await expect(new RedisLocker(new RedisLeaseStore(one, { answerWithinMs: 2_000 }), { ...options, acquireTimeoutMs: 50 }).newLock('upload-y').lock(new AbortController().signal, () => undefined)).rejects.toMatchObject({ code: 'UPLOAD_LOCKED' });
      await again.unlock();
    } finally {
      await closeRedis(one);
      await closeRedis(two);
    }
  });

  it('answers 202 "forwarding" to a last chunk retried on the other replica while the first is still at HeyGen, and makes one asset', async () => {
    const bytes = sizedMedia('image/png', 40_000);
    const created = await createUpload(a.url, bytes.length, { filetype: 'image/png' });
    const path = new URL(created.url).pathname;
    const assetsBefore = standIn.assetsCreated();
    // HeyGen takes the first attempt's body and never answers it (until the upstream timeout).
    standIn.setFault('hang', 1);
    const atHeygen = nextEvent(standIn.events, 'request');
    const first = patchChunk(`${a.url}${path}`, 0, bytes);
    await atHeygen;
    const retried = await patchChunk(`${b.url}${path}`, bytes.length, Buffer.alloc(0));
    expect(retried.status).toBe(202);
    expect(retried.json).toEqual({ status: 'forwarding' });
    const status = await tusRequest(`${b.url}${path}`, 'GET');
    expect(status.status).toBe(202);
    expect(status.json).toEqual({ status: 'forwarding' });
    // The first attempt ends (the adapter's own retry, or a 504); a last retry then gets the record.
    await first;
    const settled = await patchChunk(`${b.url}${path}`, bytes.length, Buffer.alloc(0));
    expect(settled.status).toBe(200);
    expect(standIn.assetsCreated()).toBe(assetsBefore + 1);
    expect((await tusRequest(`${a.url}${path}`, 'GET')).json).toEqual(settled.json);
  });

  it('forwards once when the last chunk is retried on the other replica', async () => {
    const bytes = sizedMedia('image/jpeg', 50_000);
    const created = await createUpload(b.url, bytes.length, { filetype: 'image/jpeg' });
    const path = new URL(created.url).pathname;
    const assetsBefore = standIn.assetsCreated();
    const [first] = await patchAll(`${b.url}${path}`, bytes, bytes.length);
    const retried = await patchChunk(`${a.url}${path}`, bytes.length, Buffer.alloc(0));
    expect(first!.status).toBe(200);
    expect(retried.status).toBe(200);
    expect(retried.json).toEqual(first!.json);
    expect(standIn.assetsCreated()).toBe(assetsBefore + 1);
  });
});
