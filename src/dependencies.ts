import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config';
import type { Upstream } from './heygen/upstream';
import { createV1Upstream } from './heygen/v1/v1-upstream';
import { createV3Upstream } from './heygen/v3/v3-upstream';
import { createUploadLeaseStore } from './http/client-uploads/create-upload-lease-store';
import type { UploadLeaseStore } from './http/client-uploads/upload-lease-store';
import { ConcurrencyGate } from './http/concurrency-gate';
import { createIdempotencyStore } from './http/idempotency/create-idempotency-store';
import type { IdempotencyStore } from './http/idempotency/idempotency-store';
import { createResumableIntake, type ResumableIntake } from './intake/resumable/resumable-intake';
import { leasedCompletionClaims } from './intake/resumable/completion-claims';
import { RedisLocker } from './intake/resumable/redis-locker';
import type { ResumableStorage } from './intake/resumable/backing-store';
import { fileStorage } from './intake/resumable/file-backing-store';
import { s3Storage } from './intake/resumable/s3-backing-store';
import { createLogger, type Logger } from './ops/logger';
import { Metrics } from './ops/metrics';
import { Readiness } from './ops/readiness';
import { createRedisConnection, type RedisConnection } from './state/redis-connection';
import { createSharedState, type SharedState } from './state/shared-state';

/** Everything the app uses that a test may want to swap or inspect. */
export interface AppDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /** HeyGen, through the adapter of the configured API version. */
  readonly upstream: Upstream;
  readonly gate: ConcurrencyGate;
  /** The shared Redis, when REDIS_URL is set. */
  readonly redis: RedisConnection | undefined;
  /** Leases on the shared Redis (or this process without one), each user's fallback policy applied. */
  readonly sharedState: SharedState;
  /** Each client's uploads in progress (MAX_UPLOADS_PER_CLIENT): in Redis when REDIS_URL is set, else in memory. */
  readonly uploadLeases: UploadLeaseStore;
  /** Completed uploads by Idempotency-Key: in Redis when REDIS_URL is set, else in memory. */
  readonly idempotency: IdempotencyStore;
  /** Resumable (tus) uploads: stored under RESUMABLE_DIR, locked in Redis when REDIS_URL is set. */
  readonly resumable: ResumableIntake;
  /** Connects what needs connecting before the server listens. */
  start(): Promise<void>;
  /** Releases what the dependencies hold open (upstream sockets, store connections). */
  close(): Promise<void>;
}

/** Builds what createApp takes from the config; `overrides` replaces any part (tests). */
export function createDependencies(config: Config, overrides: Partial<AppDependencies> = {}): AppDependencies {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? new Metrics();
  const readiness = overrides.readiness ?? new Readiness();
  const upstream = overrides.upstream ?? createUpstream(config, metrics);
  const redis =
    'redis' in overrides
      ? overrides.redis
      : config.redisUrl === undefined
        ? undefined
        : createRedisConnection(config.redisUrl, logger);
  const sharedState = overrides.sharedState ?? createSharedState(redis, logger);
  if (sharedState.readinessCheck) readiness.add(sharedState.readinessCheck);
  const reservationLimits = {
    totalBytes: config.resumableMaxDiskBytes,
    bytesPerClient: config.resumableMaxBytesPerClient,
    uploadsPerClient: config.maxResumableUploadsPerClient,
  };
  const storage = overrides.resumable === undefined ? resumableStorageFor(config) : undefined;
  if (storage?.readiness) readiness.add(storage.readiness);
  const resumable =
    overrides.resumable ??
    createResumableIntake({
      settings: { mode: config.upstreamMode, maxBytes: config.maxBytes, spoolDirectory: config.tmpDir ?? tmpdir(), upstream },
      storage: storage ?? resumableStorageFor(config),
      expiryMs: config.resumableExpiryMs,
      reservations: sharedState.uploadReservations(reservationLimits),
      limits: reservationLimits,
      locker: sharedState.redis ? new RedisLocker(sharedState.leases('resumableLocks')) : undefined,
      claims: leasedCompletionClaims(sharedState.leases('completionClaims')),
      logger,
    });
  return {
    logger,
    metrics,
    readiness,
    upstream,
    gate: overrides.gate ?? new ConcurrencyGate(config.maxConcurrentUploads),
    redis,
    sharedState,
    uploadLeases: overrides.uploadLeases ?? createUploadLeaseStore(sharedState.leases('clientUploads')),
    idempotency: overrides.idempotency ?? createIdempotencyStore(sharedState),
    resumable,
    start:
      overrides.start ??
      (async () => {
        await sharedState.start();
        await resumable.start(config.resumableCleanupIntervalMs);
      }),
    close:
      overrides.close ??
      (async () => {
        resumable.close();
        upstream.close();
        await sharedState.close();
      }),
  };
}

/** RESUMABLE_STORE: the shared directory, or a bucket (config.ts made sure s3 comes with one). */
function resumableStorageFor(config: Config): ResumableStorage {
  if (config.resumableStore === 'file') return fileStorage({ directory: config.resumableDir ?? join(tmpdir(), 'heygen-upload-proxy-resumable'), expiryMs: config.resumableExpiryMs });
  const location = { bucket: config.resumableS3Bucket ?? '', region: config.resumableS3Region, endpoint: config.resumableS3Endpoint, forcePathStyle: config.resumableS3ForcePathStyle };
  // One part buffered on disk per upload request this replica may carry at once (docs/resumable.md).
  return s3Storage({ location, expiryMs: config.resumableExpiryMs, partUploads: config.maxConcurrentUploads });
}

/** The adapter of the configured HeyGen API version. */
function createUpstream(config: Config, metrics: Metrics): Upstream {
  const common = {
    apiKey: config.heygenApiKey,
    timeoutMs: config.upstreamTimeoutMs,
    onAttempt: ({ outcome, seconds }: { outcome: string; seconds: number }) => metrics.upstreamDuration.observe({ outcome }, seconds),
  };
  return config.heygenApi === 'v1'
    ? createV1Upstream({ ...common, uploadUrl: config.heygenUploadUrl })
    : createV3Upstream({ ...common, baseUrl: config.heygenApiBaseUrl });
}
