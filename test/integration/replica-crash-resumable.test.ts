import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StandInHeygenV3, startStandInHeygenV3 } from '../../src/dev/stand-in-heygen-v3';
import { sha256 } from '../support/fixtures';
import { TEST_API_KEY } from '../support/proxy-harness';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { killMidPatch } from '../support/replicas';
import { type S3Server, startS3Server } from '../support/s3-server';
import { type ServerProcess, startServerProcess } from '../support/server-process';
import { sizedMedia } from '../support/sized-media';
import { createUpload, patchAll, tusRequest, waitForFileSize } from '../support/tus';

const MIB = 1024 * 1024;
const BUCKET = 'replica-crash';

/** How each store shows that bytes of the killed PATCH are stored: a file's size, or a multipart part S3 took. */
interface StoreUnderTest {
  readonly env: Record<string, string>;
  stored(id: string): Promise<unknown>;
  close(): Promise<void>;
}

async function fileStore(): Promise<StoreUnderTest> {
  const dir = await mkdtemp(join(tmpdir(), 'replica-crash-resumable-'));
  return {
    env: { RESUMABLE_DIR: dir },
    stored: (id) => waitForFileSize(join(dir, id), 2 * MIB),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function s3Store(): Promise<StoreUnderTest> {
  const s3: S3Server = await startS3Server();
  await s3.createBucket(BUCKET);
  return {
    env: s3.envFor(BUCKET),
    // The first 8 MiB part of the PATCH, taken by the bucket (RGW answered its PUT).
    stored: (id) => s3.waitForRequest(new RegExp(`"PUT /${BUCKET}/${id}\\?[^"]*partNumber=1[&" ][^"]*" 200`)),
    close: () => s3.stop(),
  };
}

describe.each([
  ['a shared directory (RESUMABLE_STORE=file)', fileStore],
  ['an S3 bucket (RESUMABLE_STORE=s3, on Ceph RGW)', s3Store],
])('two replicas with Redis and %s, one of them SIGKILLed mid-upload', (_name, makeStore) => {
  let redis: RedisServer;
  let standIn: StandInHeygenV3;
  let store: StoreUnderTest;
  let a: ServerProcess;
  let b: ServerProcess;
  beforeAll(async () => {
    redis = await startRedisServer();
    standIn = await startStandInHeygenV3({ apiKey: TEST_API_KEY });
    store = await makeStore();
    const env = { HEYGEN_API_KEY: TEST_API_KEY, HEYGEN_API_BASE_URL: standIn.url, HOST: '127.0.0.1', PORT: '0', REDIS_URL: redis.url, ...store.env };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  }, 60_000);
  afterAll(async () => {
    for (const replica of [a, b]) {
      if (replica.child.exitCode === null && replica.child.signalCode === null) {
        const exited = once(replica.child, 'exit');
        replica.child.kill('SIGTERM');
        await exited;
      }
    }
    await standIn.close();
    await redis.stop();
    await store.close();
  });

  it('the upload finishes through the other replica and lands as exactly one asset, byte for byte', async () => {
    const bytes = sizedMedia('video/mp4', 12 * MIB);
    const created = await createUpload(a.url, bytes.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    expect(created.response.status).toBe(201);

    await killMidPatch(a, created.url, bytes, () => store.stored(created.id), 10 * MIB);

    // The dead replica's lock on the upload lapses within its lease; the other replica then takes the rest.
    const uploadUrl = `${b.url}/v1/uploads/${created.id}`;
    const head = await tusRequest(uploadUrl, 'HEAD');
    expect(head.status).toBe(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(2 * MIB);
    const assetsBefore = standIn.assetsCreated();
    const answers = await patchAll(uploadUrl, bytes, 4 * MIB, offset);
    expect(answers.at(-1)!.status).toBe(200);
    expect(standIn.assetsCreated()).toBe(assetsBefore + 1);
    const sent = standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(sent.sha256).toBe(sha256(bytes));
    expect(sent.idempotencyKey).toBe(`hup-tus-${created.id}`);
    expect((await tusRequest(uploadUrl, 'GET')).json).toEqual(answers.at(-1)!.json);
    // 12 MiB through two processes, a lock lease running out, and for S3 a gateway on two busy cores.
  }, 90_000);
});
