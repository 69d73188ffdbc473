import { tmpdir } from 'node:os';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Config } from './config';
import { createHeygenClient, type HeygenClient } from './heygen/upload-client';
import { clientIdleTimeout } from './http/client-idle-timeout';
import { ConcurrencyGate } from './http/concurrency-gate';
import { errorHandler } from './http/error-handler';
import { methodNotAllowed, notFound } from './http/not-found';
import { requestContext } from './http/request-context';
import { requestLog } from './http/request-log';
import { shutdownGate } from './http/shutdown-gate';
import { idempotentUpload } from './idempotency/idempotent-upload';
import type { IdempotencyStore } from './idempotency/idempotency-store';
import { MemoryIdempotencyStore } from './idempotency/memory-store';
import { healthRoutes } from './ops/health-routes';
import { createLogger, type Logger } from './ops/logger';
import { Metrics } from './ops/metrics';
import { Readiness } from './ops/readiness';
import { uploadMetrics } from './ops/upload-metrics';
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
  readonly idempotency: IdempotencyStore;
  /** Releases what the dependencies hold open (upstream sockets, store connections). */
  close(): Promise<void>;
}

export function createDependencies(config: Config, overrides: Partial<AppDependencies> = {}): AppDependencies {
  const metrics = overrides.metrics ?? new Metrics();
  const heygen =
    overrides.heygen ??
    createHeygenClient({
      uploadUrl: config.heygenUploadUrl,
      apiKey: config.heygenApiKey,
      timeoutMs: config.upstreamTimeoutMs,
      onAttempt: ({ outcome, seconds }) => metrics.upstreamDuration.observe({ outcome }, seconds),
    });
  return {
    logger: overrides.logger ?? createLogger(config.logLevel),
    metrics,
    readiness: overrides.readiness ?? new Readiness(),
    heygen,
    gate: overrides.gate ?? new ConcurrencyGate(config.maxConcurrentUploads),
    idempotency: overrides.idempotency ?? new MemoryIdempotencyStore(),
    close:
      overrides.close ??
      (() => {
        heygen.close();
        return Promise.resolve();
      }),
  };
}

/** The request path of DESIGN.md, in order; nothing else. */
export function createApp(config: Config, deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);

  const parseUpload = createUploadParser({
    mode: config.upstreamMode,
    maxBytes: config.maxBytes,
    spoolDirectory: config.tmpDir ?? tmpdir(),
    heygen: deps.heygen,
  });

  app.use(requestContext());
  app.use(requestLog(deps.logger));
  app.use(helmet());
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(healthRoutes(deps.readiness, deps.metrics));
  app
    .route('/v1/asset')
    .post(
      uploadMetrics(deps.metrics),
      shutdownGate(deps.readiness),
      deps.gate.middleware(),
      uploadPrecheck(config.maxBytes),
      clientIdleTimeout(config.clientIdleTimeoutMs),
      idempotentUpload({ store: deps.idempotency, logger: deps.logger }, uploadHandler(parseUpload)),
    )
    .all(methodNotAllowed());

  app.use(notFound());
  app.use(errorHandler());
  return app;
}
