import type * as Redis from 'redis';
import type { Logger } from '../ops/logger';
import { degradedStatus } from './fallback-policy';

export type RedisConnection = ReturnType<typeof Redis.createClient>;

/** Every key this service writes starts with this, so one Redis can serve several applications. */
export const REDIS_KEY_PREFIX = 'heygen-upload-proxy:';

/** How long start-up waits for Redis before serving degraded (fallback-policy.ts says how). */
const CONNECT_WAIT_MS = 3_000;

/**
 * The one connection to the shared Redis (REDIS_URL) that every replica's shared state goes through:
 * rate limits, per-client caps, idempotency records, tus locks and completion claims. Commands fail
 * fast while it is unreachable (no offline queue), so a Redis outage degrades the service instead of
 * stalling it (fallback-policy.ts decides how, per user), and the client keeps reconnecting in the
 * background.
 */
export function createRedisConnection(url: string, logger: Logger): RedisConnection {
  // Loaded here rather than at the top: the client adds ~18 MB of RSS, which a replica without
  // REDIS_URL should not carry.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createClient } = require('redis') as typeof Redis;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2_000),
    },
  });
  let reported = false;
  client.on('error', (error: Error) => {
    // Every failed reconnect emits an error; say it once per outage, not every 2 s.
    if (!reported) logger.warn({ err: error.message, shared_state: degradedStatus() }, 'redis unreachable');
    reported = true;
  });
  client.on('ready', () => {
    if (reported) logger.info('redis reachable again; shared state restored');
    reported = false;
  });
  return client;
}

/** Connects, waiting a bounded time: the service starts either way, degraded if Redis is down. */
export async function connectRedis(client: RedisConnection): Promise<void> {
  const connecting = client.connect().then(() => undefined);
  connecting.catch(() => undefined);
  await Promise.race([connecting, new Promise((resolve) => setTimeout(resolve, CONNECT_WAIT_MS).unref())]);
}

/** Closes gracefully when Redis answers; otherwise drops the socket and stops reconnecting. */
export async function closeRedis(client: RedisConnection): Promise<void> {
  if (client.isReady) {
    await client.close().catch(() => client.destroy());
    return;
  }
  if (client.isOpen) client.destroy();
}
