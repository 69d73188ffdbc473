import express, { type RequestHandler, type Router } from 'express';
import type { Config } from '../config';
import { ApiError } from '../errors';
import { UpstreamFailure } from '../heygen/upstream-failure';
import { ASSET_ID_HEADER, type ResumableIntake } from '../intake/resumable/resumable-intake';
import type { Metrics } from '../ops/metrics';
import { contextOf } from '../request-context';
import { clientIdleTimeout } from './client-idle-timeout';
import type { ConcurrencyGate } from './concurrency-gate';
import { fromUpstreamFailure } from './error-handler';
import { methodNotAllowed } from './not-found';
import { type CorsExtras, originPolicy } from './origin-policy';
import { requireUploadToken } from './require-upload-token';
import type { Readiness } from '../ops/readiness';
import { shutdownGate } from './shutdown-gate';

/** What tus clients send and must be able to read across origins (tus-js-client, Uppy). */
export const TUS_CORS: CorsExtras = {
  methods: ['HEAD', 'PATCH', 'DELETE', 'OPTIONS'],
  allowedHeaders: ['Tus-Resumable', 'Upload-Length', 'Upload-Offset', 'Upload-Metadata', 'Upload-Defer-Length', 'Upload-Concat', 'X-HTTP-Method-Override', 'X-Requested-With'],
  preflightContinue: true,
  exposedHeaders: ['Location', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Upload-Expires', 'Upload-Metadata', ASSET_ID_HEADER],
};

export interface ResumableEdge {
  readonly intake: ResumableIntake;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  readonly gate: ConcurrencyGate;
  /** The same limiter instance as /v1/asset's, so a client has one budget of upload creations. */
  readonly rateLimit: RequestHandler;
}

/**
 * /v1/uploads: the tus endpoint behind the same edge as /v1/asset. Creations (POST) pass the shutdown
 * gate, the token check, the rate limit and the concurrency gate; chunks (PATCH) all but the rate
 * limit (a client pays for an upload, not for each of its chunks); HEAD, DELETE and the record GET
 * need the token. Mounted with app.use('/v1/uploads', ...), so its paths here are '/' and '/:id'.
 */
export function resumableRoutes(config: Config, edge: ResumableEdge): Router {
  const router = express.Router();
  const token: RequestHandler[] = config.uploadTokenSecret ? [requireUploadToken(config.uploadTokenSecret)] : [];
  const { intake } = edge;
  router.use(countRequests(edge.metrics));
  router.use(...originPolicy(config.allowedOrigins, TUS_CORS));
  router.post('/', shutdownGate(edge.readiness), ...token, edge.rateLimit, edge.gate.middleware(), clientIdleTimeout(config.clientIdleTimeoutMs), intake.handle);
  router.patch('/:id', shutdownGate(edge.readiness), ...token, edge.gate.middleware(), clientIdleTimeout(config.clientIdleTimeoutMs), intake.handle);
  router.head('/:id', ...token, intake.handle);
  router.delete('/:id', ...token, intake.handle);
  // tus answers OPTIONS (its discovery of versions, extensions and max size); for a CORS preflight the
  // edge has set the CORS headers first, and tus's own are dropped.
  router.options(['/', '/:id'], intake.handle);
  router.get('/:id', ...token, recordHandler(intake));
  router.all(['/', '/:id'], methodNotAllowed());
  return router;
}

/**
 * GET /v1/uploads/<id> (a plain GET, for clients such as Uppy that keep only the upload URL): 200 and
 * the asset record once HeyGen has the file, 202 `{status:"uploading", upload_offset, upload_length}`
 * or `{status:"forwarding"}` before, or the catalogue error that ended it.
 */
function recordHandler(intake: ResumableIntake): RequestHandler {
  return async (req, res, next) => {
    const status = await intake.status(String(req.params.id), contextOf(res).tokenSubject);
    switch (status.state) {
      case 'done':
        res.setHeader(ASSET_ID_HEADER, status.record.id);
        res.status(200).json(status.record);
        return;
      case 'forwarding':
        res.status(202).json({ status: 'forwarding' });
        return;
      case 'uploading':
        res.status(202).json({ status: 'uploading', upload_offset: status.offset, upload_length: status.length });
        return;
      case 'refused':
        next(status.error);
        return;
      case 'failed':
        next(fromUpstreamFailure(new UpstreamFailure('an earlier attempt to forward this upload failed', { kind: status.failure.kind, ...(status.failure.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: status.failure.retryAfterSeconds }) })));
        return;
      case 'expired':
        next(new ApiError('UPLOAD_EXPIRED'));
        return;
      case 'missing':
        next(new ApiError('UPLOAD_NOT_FOUND'));
        return;
    }
  };
}

/**
 * Every tus request by method and outcome; a request that completed an upload (it carries the
 * forwarded file's type) also counts as an upload in heygen_proxy_uploads_total and _upload_bytes,
 * as a POST /v1/asset does, and a refusal counts in heygen_proxy_rejected_total.
 */
function countRequests(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const context = contextOf(res);
    res.once('close', () => {
      const outcome = context.answered ? (context.errorCode ?? 'success') : 'CLIENT_CLOSED';
      metrics.resumableRequests.inc({ method: req.method, outcome });
      if (outcome === 'success' && context.mediaType !== undefined && req.method !== 'HEAD' && req.method !== 'GET') {
        metrics.uploads.inc({ outcome, media_type: context.mediaType });
        if (context.bytes !== undefined) metrics.uploadBytes.observe({ media_type: context.mediaType }, context.bytes);
      }
      if (context.errorCode !== undefined && !context.errorCode.startsWith('UPSTREAM_')) metrics.rejected.inc({ code: context.errorCode });
    });
    next();
  };
}
