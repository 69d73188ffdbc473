import { tmpdir } from 'node:os';
import express, { type Express } from 'express';
import helmet from 'helmet';
import type { Config } from './config';
import type { AppDependencies } from './dependencies';
import { errorHandler } from './http/error-handler';
import { healthRoutes } from './http/health-routes';
import { createIdempotencyGuard } from './http/idempotency/idempotency-guard';
import { limitsHandler } from './http/limits-route';
import { methodNotAllowed, notFound } from './http/unmatched-requests';
import { openApiHandler } from './http/openapi-route';
import { originPolicy } from './http/origin-policy';
import { uploadRateLimit } from './http/rate-limit';
import { requestLog } from './http/request-log';
import { resumableRoutes } from './http/resumable-routes';
import { createUploadEdge } from './http/upload-edge';
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
  // Every route that takes upload bytes passes this one chain (http/upload-edge.ts).
  const uploadChain = createUploadEdge(config, {
    readiness: deps.readiness,
    gate: deps.gate,
    uploadLeases: deps.uploadLeases,
    rateLimit: uploadRateLimit(config, deps.metrics, deps.logger, deps.redis),
  });

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
      ...uploadChain({ startsUpload: true, precheck: [uploadPrecheck(config.maxBytes)] }),
      uploadHandler(parseMultipart, createIdempotencyGuard(deps.idempotency, deps.logger)),
    )
    .all(methodNotAllowed());

  app.use('/v1/uploads', resumableRoutes(config, { intake: deps.resumable, metrics: deps.metrics, uploadChain }));

  app.use(notFound());
  app.use(errorHandler());
  return app;
}
