import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StandInHeygen, startStandInHeygen } from '../../src/dev/stand-in-heygen';
import { fixture, paddedFile, sha256 } from '../support/fixtures';
import { singleFileFraming } from '../support/multipart';
import { TEST_API_KEY } from '../support/proxy-harness';
import { openPost, post, type RawResponse } from '../support/raw-http';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { type ServerProcess, startServerProcess } from '../support/server-process';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;
/** How long a client keeps retrying before it gives up: long enough to see a 5-minute marker for what it is. */
const CLIENT_GIVES_UP_AFTER_MS = 60_000;
/** What a client waits when a 409 names no time (today's answer): a polite second. */
const DEFAULT_RETRY_AFTER_SECONDS = 1;

interface KeyedUpload {
  readonly key: string;
  readonly file: Buffer;
  readonly framing: ReturnType<typeof singleFileFraming>;
}

/** Each client's own file: a distinct size, so each asset at the stand-in can be told apart by its SHA-256. */
function keyedUpload(index: number): KeyedUpload {
  const file = paddedFile(fixture('sample.mp4'), 3 * MIB + index * 1000);
  return { key: `crash-retry-${index}`, file, framing: singleFileFraming(`clip-${index}.mp4`, 'video/mp4') };
}

function wholeBody(upload: KeyedUpload): Buffer {
  return Buffer.concat([upload.framing.head, upload.file, upload.framing.tail]);
}

function codeOf(answer: RawResponse): unknown {
  return (answer.json as { error?: { code?: string } } | undefined)?.error?.code;
}

/**
 * A client's retry loop as a well-behaved client runs it: send the upload with its key; on 409 wait
 * what Retry-After says (a second if it says nothing) and send it again, until it lands or the
 * client gives up.
 */
async function retryUntilLanded(url: string, upload: KeyedUpload): Promise<{ answer: RawResponse; conflicts: number; landedAt: number }> {
  const giveUpAt = Date.now() + CLIENT_GIVES_UP_AFTER_MS;
  let conflicts = 0;
  for (;;) {
    const answer = await post(`${url}/v1/asset`, wholeBody(upload), { 'Content-Type': upload.framing.contentType, 'Idempotency-Key': upload.key });
    if (answer.status !== 409) return { answer, conflicts, landedAt: Date.now() };
    expect(codeOf(answer)).toBe('IDEMPOTENCY_CONFLICT');
    conflicts += 1;
    const waitSeconds = Number(answer.headers['retry-after'] ?? DEFAULT_RETRY_AFTER_SECONDS);
    if (Date.now() + waitSeconds * 1000 > giveUpAt) {
      throw new Error(`${upload.key}: still 409 IDEMPOTENCY_CONFLICT after ${conflicts} tries over ${CLIENT_GIVES_UP_AFTER_MS / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, waitSeconds * 1000));
  }
}

describe('keyed uploads on a replica that is SIGKILLed mid-body, retried through another replica', () => {
  let redis: RedisServer;
  let standIn: StandInHeygen;
  let spoolA: string;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    standIn = await startStandInHeygen({ apiKey: TEST_API_KEY });
    spoolA = await mkdtemp(join(tmpdir(), 'crash-replica-a-'));
    const env = {
      HEYGEN_API_KEY: TEST_API_KEY,
      HEYGEN_API: 'v1',
      HEYGEN_UPLOAD_URL: standIn.url,
      REDIS_URL: redis.url,
      HOST: '127.0.0.1',
      PORT: '0',
      // Every client here is 127.0.0.1: this test is about keys, not the budgets that would count them as one.
      RATE_LIMIT_MAX: '10000',
      MAX_UPLOADS_PER_CLIENT: '1000',
    };
    a = await startServerProcess({ ...env, TMPDIR: spoolA });
    b = await startServerProcess(env);
  }, 60_000);
  afterAll(async () => {
    for (const replica of [a, b]) {
      if (replica && replica.child.exitCode === null && replica.child.signalCode === null) {
        const exited = once(replica.child, 'exit');
        replica.child.kill('SIGKILL');
        await exited;
      }
    }
    await standIn?.close();
    await redis?.stop();
    await rm(spoolA, { recursive: true, force: true });
  });

  it('lands each upload exactly once, within about 30 s of the kill', async () => {
    const uploads = [1, 2, 3].map(keyedUpload);

    // Three clients are halfway through their bodies on replica A: each holds its key there.
    const onA = uploads.map((upload) => {
      const opened = openPost(`${a!.url}/v1/asset`, {
        'Content-Type': upload.framing.contentType,
        'Content-Length': String(upload.framing.head.length + upload.file.length + upload.framing.tail.length),
        'Idempotency-Key': upload.key,
      });
      opened.req.on('error', () => undefined);
      opened.req.write(upload.framing.head);
      opened.req.write(upload.file.subarray(0, 1536 * 1024));
      return opened;
    });
    // A spools a body past 1 MiB to disk (beside the other things a process keeps in its TMPDIR),
    // and claims the key before it reads the body.
    await waitForDirectory(spoolA, (entries) => entries.filter((entry) => /^heygen-upload-[0-9a-f]+$/.test(entry)).length === uploads.length, 20_000);

    const exited = once(a!.child, 'exit');
    a!.child.kill('SIGKILL');
    await exited;
    const killedAt = Date.now();
    for (const { req } of onA) req.destroy();

    const results = await Promise.all(uploads.map((upload) => retryUntilLanded(b!.url, upload)));
    const secondsAfterKill = results.map((result) => (result.landedAt - killedAt) / 1000);
    // Printed so a run shows the figure, not just a pass.
    process.stdout.write(`retries landed ${secondsAfterKill.map((s) => `${s.toFixed(1)} s`).join(', ')} after the kill, after ${results.map((r) => r.conflicts).join(', ')} conflicts\n`);

    for (const { answer } of results) {
      expect(answer.status).toBe(201);
      expect(answer.headers['idempotent-replayed']).toBeUndefined();
    }
    expect(Math.max(...secondsAfterKill)).toBeLessThanOrEqual(30);

    // One asset per upload at HeyGen: A died before sending any, B sent each once.
    const received = standIn.received.map((entry) => entry.sha256).sort();
    expect(received).toEqual(uploads.map((upload) => sha256(upload.file)).sort());

    // A further retry replays the stored answer and sends nothing.
    const again = await post(`${b!.url}/v1/asset`, wholeBody(uploads[0]!), { 'Content-Type': uploads[0]!.framing.contentType, 'Idempotency-Key': uploads[0]!.key });
    expect(again.status).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json).toEqual(results[0]!.answer.json);
    expect(standIn.received).toHaveLength(uploads.length);
  }, 120_000);
});
