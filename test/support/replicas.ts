import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StandInHeygenV3, startStandInHeygenV3 } from '../../src/dev/stand-in-heygen-v3';
import { startV3ProxyFor, TEST_API_KEY, type V3Harness } from './proxy-harness';
import { type RedisServer, startRedisServer } from './redis-server';
import type { ServerProcess } from './server-process';

/** Two proxies in this process that act as one endpoint: one stand-in, one Redis, one resumable directory. */
export interface TwoReplicas {
  readonly redis: RedisServer;
  readonly standIn: StandInHeygenV3;
  readonly dir: string;
  readonly a: V3Harness;
  readonly b: V3Harness;
  close(): Promise<void>;
}

export async function startTwoReplicas(name: string, env: Record<string, string> = {}): Promise<TwoReplicas> {
  const redis = await startRedisServer();
  const standIn = await startStandInHeygenV3({ apiKey: TEST_API_KEY });
  const dir = await mkdtemp(join(tmpdir(), `${name}-`));
  const shared = { RESUMABLE_DIR: dir, REDIS_URL: redis.url, ...env };
  const a = await startV3ProxyFor(standIn, shared);
  const b = await startV3ProxyFor(standIn, shared);
  return {
    redis,
    standIn,
    dir,
    a,
    b,
    async close() {
      await a.close();
      await b.close();
      await standIn.close();
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Sends the first `sendFirst` bytes (8 MiB unless said) of `bytes` as a PATCH at offset 0 to
 * `replica`, waits until `stored()` says the store holds some of them (a file's size, an S3 part),
 * then SIGKILLs the replica mid-chunk and drops the client's side.
 */
export async function killMidPatch(replica: ServerProcess, uploadUrl: string, bytes: Buffer, stored: () => Promise<unknown>, sendFirst = 8 * 1024 * 1024): Promise<void> {
  const req = http.request(uploadUrl, {
    method: 'PATCH',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'Content-Length': bytes.length },
  });
  req.on('error', () => undefined);
  req.write(bytes.subarray(0, sendFirst));
  await stored();
  const exited = once(replica.child, 'exit');
  replica.child.kill('SIGKILL');
  await exited;
  req.destroy();
}
