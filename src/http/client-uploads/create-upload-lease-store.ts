import type { Logger } from '../../ops/logger';
import type { RedisConnection } from '../../state/redis-connection';
import { UPLOAD_LEASE_REFRESH_MS, UPLOAD_LEASE_TTL_MS } from '../../upload/limits';
import { FallbackUploadLeaseStore } from './fallback-lease-store';
import { MemoryUploadLeaseStore } from './memory-lease-store';
import { RedisUploadLeaseStore } from './redis-lease-store';
import type { UploadLeaseStore } from './upload-lease-store';

/** Per client uploads in progress: shared through Redis (falling back per replica) when there is one, else in memory. */
export function createUploadLeaseStore(redis: RedisConnection | undefined, logger: Logger): UploadLeaseStore {
  if (redis === undefined) return new MemoryUploadLeaseStore();
  const shared = new RedisUploadLeaseStore(redis, { ttlMs: UPLOAD_LEASE_TTL_MS, refreshMs: UPLOAD_LEASE_REFRESH_MS });
  let lastWarning = 0;
  return new FallbackUploadLeaseStore(shared, new MemoryUploadLeaseStore(), () => redis.isReady, (error) => {
    // One warning a minute is enough to see a degraded cap in the logs.
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'upload lease store failed; capping uploads per client per replica');
  });
}
