import { createClient } from 'redis';

export type RedisClient = ReturnType<typeof createClient>;

/** A command that cannot reach Redis fails at once instead of queueing behind a reconnect. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * One connected node-redis client for everything that shares state between replicas (idempotency
 * records, and the rate limiter's counters). Commands fail fast while disconnected so callers can
 * answer 503 instead of holding requests open; the client keeps reconnecting in the background.
 */
export async function connectRedis(url: string, onError: (error: unknown) => void): Promise<RedisClient> {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { connectTimeout: CONNECT_TIMEOUT_MS },
  });
  // Without a listener an 'error' event (a dropped connection) would crash the process.
  client.on('error', onError);
  await client.connect();
  return client;
}
