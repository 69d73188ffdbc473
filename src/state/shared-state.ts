import type { Logger } from '../ops/logger';
import { withTimeout } from '../with-timeout';
import type { ReadinessCheck } from '../ops/readiness';
import { FALLBACK_POLICY, leasesWithPolicy, refusalFor, type SharedStateUser } from './fallback-policy';
import type { LeaseStore } from './lease';
import { MemoryLeaseStore } from './memory-lease-store';
import { closeRedis, connectRedis, type RedisConnection } from './redis-connection';
import { RedisLeaseStore } from './redis-lease-store';
import { sharedStateReadinessCheck } from './shared-state-readiness';
import { MemoryUploadReservations, RedisUploadReservations, type ReservationLimits, type UploadReservations } from './upload-reservations';

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
  /**
   * The running totals of the resumable store's room (declared bytes, unfinished uploads; per client
   * and in all): in Redis, refused with 503 while it fails, or in this process without one.
   */
  uploadReservations(limits: ReservationLimits): UploadReservations;
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
    uploadReservations(limits) {
      if (redis === undefined) return new MemoryUploadReservations(limits);
      return refusingReservations(new RedisUploadReservations(redis, limits));
    },
    start: () => (redis === undefined ? Promise.resolve() : connectRedis(redis)),
    close: () => (redis === undefined ? Promise.resolve() : closeRedis(redis)),
  };
}

/** Every call bounded by the policy's time, and a failure answered with its 503. */
function refusingReservations(shared: UploadReservations): UploadReservations {
  const { answerWithinMs } = FALLBACK_POLICY.resumableReservations;
  const refusing = <T>(call: () => Promise<T>): Promise<T> =>
    withTimeout(Promise.resolve().then(call), answerWithinMs, `redis did not answer within ${answerWithinMs} ms`).catch((error: unknown) => {
      throw refusalFor('resumableReservations', error);
    });
  return {
    reserve: (id, clientKey, bytes) => refusing(() => shared.reserve(id, clientKey, bytes)),
    adopt: (id, bytes) => refusing(() => shared.adopt(id, bytes)),
    release: (id) => refusing(() => shared.release(id)),
    totals: (clientKey) => refusing(() => shared.totals(clientKey)),
  };
}
