import type { Logger } from '../ops/logger';
import type { ReadinessCheck } from '../ops/readiness';
import { FALLBACK_POLICY, leasesWithPolicy, type SharedStateUser } from './fallback-policy';
import type { LeaseStore } from './lease';
import { MemoryLeaseStore } from './memory-lease-store';
import { closeRedis, connectRedis, type RedisConnection } from './redis-connection';
import { RedisLeaseStore } from './redis-lease-store';
import { sharedStateReadinessCheck } from './shared-state-readiness';

/** What replicas share: one Redis connection (when REDIS_URL is set), and leases on it for each user. */
export interface SharedState {
  /** The shared Redis, when REDIS_URL is set. */
  readonly redis: RedisConnection | undefined;
  /** Reports on Redis in /readyz, when there is one. */
  readonly readinessCheck: ReadinessCheck | undefined;
  /**
   * The leases `user` takes: in Redis with the user's fallback policy applied (fallback-policy.ts),
   * or in this process when there is no Redis (a single replica).
   */
  leases(user: SharedStateUser): LeaseStore;
  /** Connects, waiting a bounded time: the service starts either way, degraded if Redis is down. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createSharedState(redis: RedisConnection | undefined, logger: Logger): SharedState {
  // One memory store for the process: the single replica's leases, and every user's per-replica fallback.
  const local = new MemoryLeaseStore();
  const byUser = new Map<SharedStateUser, LeaseStore>();
  return {
    redis,
    readinessCheck: redis === undefined ? undefined : sharedStateReadinessCheck(redis),
    leases(user) {
      if (redis === undefined) return local;
      let leases = byUser.get(user);
      if (leases === undefined) {
        const shared = new RedisLeaseStore(redis, { answerWithinMs: FALLBACK_POLICY[user].answerWithinMs });
        leases = leasesWithPolicy(user, shared, local, () => redis.isReady, logger);
        byUser.set(user, leases);
      }
      return leases;
    },
    start: () => (redis === undefined ? Promise.resolve() : connectRedis(redis)),
    close: () => (redis === undefined ? Promise.resolve() : closeRedis(redis)),
  };
}
