import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from './config';
import type { Upstream } from './heygen/upstream';
import type * as V1UpstreamModule from './heygen/v1/v1-upstream';
import type * as V3UpstreamModule from './heygen/v3/v3-upstream';
import { createUploadLeaseStore } from './http/client-uploads/create-upload-lease-store';
import { MemoryUploadCounts } from './http/client-uploads/memory-upload-counts';
import type { UploadLeaseStore } from './http/client-uploads/upload-lease-store';
import { ConcurrencyGate } from './http/concurrency-gate';
import { createIdempotencyStore } from './http/idempotency/create-idempotency-store';
import type { IdempotencyStore } from './http/idempotency/idempotency-store';
import { deferredResumableIntake } from './intake/deferred-resumable-intake';
import type * as ResumableIntakeModule from './intake/resumable/resumable-intake';
import type { ResumableIntake } from './intake/resumable/resumable-intake';
import { leasedCompletionClaims } from './intake/resumable/completion-claims';
import { RedisLocker } from './intake/resumable/redis-locker';
import type * as FileBackingStoreModule from './intake/resumable/file-backing-store';
import type * as S3BackingStoreModule from './intake/resumable/s3-backing-store';
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
  const resumableDirectory = config.resumableDir ?? join(tmpdir(), 'heygen-upload-proxy-resumable');
  // RESUMABLE_STORE=s3: the bucket's store is built here, so that readiness reports the bucket from
  // the first probe, and the intake is built at start (below); its module, and the AWS SDK, only then.
  const bucketStorage =
    overrides.resumable === undefined && config.resumableStore === 's3'
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('./intake/resumable/s3-backing-store') as typeof S3BackingStoreModule).s3Storage(s3Settings(config))
      : undefined;
  if (bucketStorage?.readiness) readiness.add(bucketStorage.readiness);
  // Built on first use, or at start when the store already holds uploads (or is a bucket): its module
  // (and the store package it loads) is required only then (bench/idle-footprint.md). A store chosen
  // by configuration is required here, in the branch that chooses it, so that a store not chosen is
  // never loaded.
  const resumable =
    overrides.resumable ??
    deferredResumableIntake(
      () =>
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        (require('./intake/resumable/resumable-intake') as typeof ResumableIntakeModule).createResumableIntake({
          settings: { mode: config.upstreamMode, maxBytes: config.maxBytes, spoolDirectory: config.tmpDir ?? tmpdir(), upstream },
          storage:
            bucketStorage ??
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            (require('./intake/resumable/file-backing-store') as typeof FileBackingStoreModule).fileStorage({ directory: resumableDirectory, expiryMs: config.resumableExpiryMs }),
          expiryMs: config.resumableExpiryMs,
          reservations: sharedState.uploadReservations(reservationLimits),
          limits: reservationLimits,
          locker: sharedState.redis ? new RedisLocker(sharedState.leases('resumableLocks')) : undefined,
          claims: leasedCompletionClaims(sharedState.leases('completionClaims')),
          logger,
        }),
      // Dot entries are the intake's own (.records): only an upload makes the store worth building at start.
      async () => bucketStorage !== undefined || (await readdir(resumableDirectory).catch(() => [])).some((name) => !name.startsWith('.')),
    );
  return {
    logger,
    metrics,
    readiness,
    upstream,
    gate: overrides.gate ?? new ConcurrencyGate(config.maxConcurrentUploads),
    redis,
    sharedState,
    // A single replica counts in memory: no lease token or heartbeat timer per upload.
    uploadLeases:
      overrides.uploadLeases ?? (sharedState.redis === undefined ? new MemoryUploadCounts() : createUploadLeaseStore(sharedState.leases('clientUploads'))),
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

/** Where RESUMABLE_STORE=s3 keeps uploads (config.ts made sure it comes with a bucket), and its bound on buffered parts. */
function s3Settings(config: Config): Parameters<typeof S3BackingStoreModule.s3Storage>[0] {
  const location = { bucket: config.resumableS3Bucket ?? '', region: config.resumableS3Region, endpoint: config.resumableS3Endpoint, forcePathStyle: config.resumableS3ForcePathStyle };
  // One part buffered on disk per upload request this replica may carry at once (docs/resumable.md).
  return { location, expiryMs: config.resumableExpiryMs, partUploads: config.maxConcurrentUploads };
}

/** The adapter of the configured HeyGen API version; the other one is never loaded (bench/idle-footprint.md). */
function createUpstream(config: Config, metrics: Metrics): Upstream {
  const common = {
    apiKey: config.heygenApiKey,
    timeoutMs: config.upstreamTimeoutMs,
    onAttempt: ({ outcome, seconds }: { outcome: string; seconds: number }) => metrics.upstreamDuration.observe({ outcome }, seconds),
  };
  if (config.heygenApi === 'v1') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createV1Upstream } = require('./heygen/v1/v1-upstream') as typeof V1UpstreamModule;
    return createV1Upstream({ ...common, uploadUrl: config.heygenUploadUrl });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createV3Upstream } = require('./heygen/v3/v3-upstream') as typeof V3UpstreamModule;
  return createV3Upstream({ ...common, baseUrl: config.heygenApiBaseUrl });
}
