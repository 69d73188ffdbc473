import { tmpdir } from 'node:os';
import express, { type Express, type RequestHandler } from 'express';
import helmet from 'helmet';
import type { Config } from './config';
import type { AppDependencies } from './dependencies';
import { clientIdleTimeout } from './http/client-idle-timeout';
import { clientUploadCap } from './http/client-uploads/client-upload-cap';
import { clientMinRate } from './http/client-min-rate';
import { errorHandler } from './http/error-handler';
import { sendContinue } from './http/expect-continue';
import { healthRoutes } from './http/health-routes';
import { createIdempotencyGuard } from './http/idempotency/idempotency-guard';
import { limitsHandler } from './http/limits-route';
import { methodNotAllowed, notFound } from './http/not-found';
import { openApiHandler } from './http/openapi-route';
import { originPolicy } from './http/origin-policy';
import { uploadRateLimit } from './http/rate-limit';
import { requestLog } from './http/request-log';
import { requireUploadToken } from './http/require-upload-token';
import { resumableRoutes } from './http/resumable-routes';
import { shutdownGate } from './http/shutdown-gate';
import { uploadMetrics } from './http/upload-metrics';
import { uploadPrecheck } from './http/upload-precheck';
import { uploadHandler } from './http/upload-route';
import { createMultipartParser } from './intake/multipart/multipart-parser';
import { requestContext } from './request-context';

/** The request path of DESIGN.md, in order; nothing else. Everything it uses comes in `deps`. */
export function createApp(config: Config, deps: AppDependencies): Express {
  const app = express();
  app.disable('x-powered-by');
  // Every answer is a one-off (an upload's record, an error, a probe): an ETag would cost a hash per
  // response and serve no cache.
  app.disable('etag');
  app.set('trust proxy', config.trustProxy);

  const parseMultipart = createMultipartParser({
    mode: config.upstreamMode,
    maxBytes: config.maxBytes,
    spoolDirectory: config.tmpDir ?? tmpdir(),
    upstream: deps.upstream,
  });
  const tokenCheck: RequestHandler[] = config.uploadTokenSecret ? [requireUploadToken(config.uploadTokenSecret)] : [];
  // One limiter for both upload routes: a client has one budget of uploads, however it sends them.
  const rateLimit = uploadRateLimit(config, deps.metrics, deps.logger, deps.redis);

  app.use(requestContext());
  app.use(requestLog(deps.logger));
  app.use(helmet());
  app.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });

  app.use(healthRoutes(deps.readiness, deps.metrics));
  app.use('/v1/asset', uploadMetrics(deps.metrics));
  app.use(['/v1/asset', '/v1/limits', '/openapi.json'], ...originPolicy(config.allowedOrigins));
  app.route('/v1/limits').get(limitsHandler(config.maxBytes)).all(methodNotAllowed());
  app.route('/openapi.json').get(openApiHandler()).all(methodNotAllowed());
  app
    .route('/v1/asset')
    .post(
      shutdownGate(deps.readiness),
      ...tokenCheck,
      rateLimit,
      clientUploadCap(config.maxUploadsPerClient, deps.uploadLeases),
      deps.gate.middleware(),
      uploadPrecheck(config.maxBytes),
      sendContinue(),
      clientIdleTimeout(config.clientIdleTimeoutMs),
      clientMinRate(config.clientMinBytesPerSecond, config.clientMinRateWindowMs),
      uploadHandler(parseMultipart, createIdempotencyGuard(deps.idempotency, deps.logger)),
    )
    .all(methodNotAllowed());

  app.use('/v1/uploads', resumableRoutes(config, { intake: deps.resumable, metrics: deps.metrics, readiness: deps.readiness, gate: deps.gate, rateLimit }));

  app.use(notFound());
  app.use(errorHandler());
  return app;
}
