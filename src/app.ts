import { tmpdir } from 'node:os';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from './config';
import { createHeygenClient, type HeygenClient } from './heygen/upload-client';
import { clientIdleTimeout } from './http/client-idle-timeout';
import { ConcurrencyGate } from './http/concurrency-gate';
import { errorHandler } from './http/error-handler';
import { methodNotAllowed, notFound } from './http/not-found';
import { originPolicy } from './http/origin-policy';
import { uploadRateLimit } from './http/rate-limit';
import { contextOf, requestContext } from './http/request-context';
import { requestLog } from './http/request-log';
import { requireUploadToken } from './http/require-upload-token';
import { shutdownGate } from './http/shutdown-gate';
import type { IdempotencyStore } from './idempotency/idempotency-store';
import { idempotentUpload } from './idempotency/idempotent-upload';
import { MemoryIdempotencyStore } from './idempotency/memory-store';
import { RedisIdempotencyStore } from './idempotency/redis-store';
import { healthRoutes } from './ops/health-routes';
import { createLogger, type Logger } from './ops/logger';
import { Metrics } from './ops/metrics';
import { Readiness } from './ops/readiness';
import { closeRedis, connectRedis, createRedisConnection, type RedisConnection, redisReadinessCheck } from './ops/redis-connection';
import { uploadMetrics } from './ops/upload-metrics';
import { limitsHandler } from './upload/limits-route';
import { uploadPrecheck } from './upload/upload-precheck';
import { createUploadParser } from './upload/upload-parser';
import { uploadHandler } from './upload/upload-route';

/** Everything the app uses that a test may want to swap or inspect. */
export interface AppDependencies {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly heygen: HeygenClient;
  readonly gate: ConcurrencyGate;
  /** The shared Redis, when REDIS_URL is set. */
  readonly redis: RedisConnection | undefined;
  /** Completed uploads by Idempotency-Key: in Redis when REDIS_URL is set, else in memory. */
  readonly idempotency: IdempotencyStore;
  /** Connects what needs connecting before the server listens. */
  start(): Promise<void>;
  /** Releases what the dependencies hold open (upstream sockets, store connections). */
  close(): Promise<void>;
}

export function createDependencies(config: Config, overrides: Partial<AppDependencies> = {}): AppDependencies {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? new Metrics();
  const readiness = overrides.readiness ?? new Readiness();
  const heygen =
    overrides.heygen ??
    createHeygenClient({
      uploadUrl: config.heygenUploadUrl,
      apiKey: config.heygenApiKey,
      timeoutMs: config.upstreamTimeoutMs,
      onAttempt: ({ outcome, seconds }) => metrics.upstreamDuration.observe({ outcome }, seconds),
    });
  const redis =
    'redis' in overrides
      ? overrides.redis
      : config.redisUrl === undefined
        ? undefined
        : createRedisConnection(config.redisUrl, logger);
  if (redis) readiness.add(redisReadinessCheck(redis));
  return {
    logger,
    metrics,
    readiness,
    heygen,
    gate: overrides.gate ?? new ConcurrencyGate(config.maxConcurrentUploads),
    redis,
    idempotency: overrides.idempotency ?? (redis ? new RedisIdempotencyStore(redis) : new MemoryIdempotencyStore()),
    start: overrides.start ?? (() => (redis ? connectRedis(redis) : Promise.resolve())),
    close:
      overrides.close ??
      (async () => {
        heygen.close();
        if (redis) await closeRedis(redis);
      }),
  };
}

/** The request path of DESIGN.md, in order; nothing else. */
export function createApp(config: Config, deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is a one-off (an upload's record, an error, a probe): an ETag would cost a hash per
  // response and serve no cache.
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);

  const parseUpload = createUploadParser({
    mode: config.upstreamMode,
    maxBytes: config.maxBytes,
    spoolDirectory: config.tmpDir ?? tmpdir(),
    heygen: deps.heygen,
  });
  const tokenCheck: RequestHandler[] = config.uploadTokenSecret ? [requireUploadToken(config.uploadTokenSecret)] : [];

  app.use(requestContext());
  app.use(requestLog(deps.logger));
  app.use(helmet());
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(healthRoutes(deps.readiness, deps.metrics));
  app.use(['/v1/asset', '/v1/limits'], uploadMetrics(deps.metrics), ...originPolicy(config.allowedOrigins));
  app.route('/v1/limits').get(limitsHandler(config.maxBytes)).all(methodNotAllowed());
  app
    .route('/v1/asset')
    .post(
      shutdownGate(deps.readiness),
      ...tokenCheck,
      uploadRateLimit(config, deps.metrics, deps.logger, deps.redis),
      deps.gate.middleware(),
      uploadPrecheck(config.maxBytes),
      clientIdleTimeout(config.clientIdleTimeoutMs),
      idempotentUpload(
        // Per client as the rate limiter sees it: the token's subject, else the client's address.
        { store: deps.idempotency, logger: deps.logger, clientKey: (req, res) => contextOf(res).rateLimitKey ?? req.ip ?? 'unknown' },
        uploadHandler(parseUpload),
      ),
    )
    .all(methodNotAllowed());

  app.use(notFound());
  app.use(errorHandler());
  return app;
}
