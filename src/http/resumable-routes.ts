import express, { type RequestHandler, type Router } from 'express';
import type { Config } from '../config';
import { ApiError } from '../errors';
import { UpstreamFailure } from '../heygen/upstream-failure';
import { ASSET_ID_HEADER } from '../intake/resumable/asset-id-header';
import type { ResumableIntake, ResumableStatus } from '../intake/resumable/resumable-intake';
import type { Metrics } from '../ops/metrics';
import { contextOf } from '../request-context';
import { fromUpstreamFailure } from './error-handler';
import { methodNotAllowed } from './unmatched-requests';
import { type CorsExtras, originPolicy } from './origin-policy';
import { requireUploadToken } from './require-upload-token';
import { tusPrecheck } from './tus-precheck';
import type { UploadRoute } from './upload-edge';

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
  /** The one upload chain (upload-edge.ts), for the requests that carry bytes: creations and PATCHes. */
  readonly uploadChain: (route: UploadRoute) => RequestHandler[];
}

/**
 * /v1/uploads: the tus endpoint. Creations (POST, with or without a body) and PATCHes pass the one
 * upload chain, as POST /v1/asset does (creations also count against the rate limit); HEAD, DELETE
 * and the record GET need the token. A finished upload's bytes are gone, so PATCH, HEAD and DELETE of
 * one are answered here from its record. Mounted with app.use('/v1/uploads', ...), so its paths here
 * are '/' and '/:id'.
 */
export function resumableRoutes(config: Config, edge: ResumableEdge): Router {
  const router = express.Router();
  const token: RequestHandler[] = config.uploadTokenSecret ? [requireUploadToken(config.uploadTokenSecret)] : [];
  const { intake } = edge;
  const precheck = tusPrecheck(config.maxBytes);
  const finished = answerFinished(intake);
  router.use(countRequests(edge.metrics));
  router.use(...originPolicy(config.allowedOrigins, TUS_CORS));
  router.use((req, res, next) => {
    // Every tus answer but OPTIONS names the protocol version, refusals included.
    if (req.method !== 'OPTIONS') res.setHeader('Tus-Resumable', '1.0.0');
    next();
  });
  router.post('/', ...edge.uploadChain({ startsUpload: true, precheck: [precheck] }), intake.handle);
  router.patch('/:id', ...edge.uploadChain({ startsUpload: false, precheck: [precheck, finished] }), intake.handle);
  router.head('/:id', ...token, finished, intake.handle);
  router.delete('/:id', ...token, finished, intake.handle);
  // tus answers OPTIONS (its discovery of versions, extensions and max size); for a CORS preflight the
  // edge has set the CORS headers first, and tus's own are dropped.
  router.options(['/', '/:id'], intake.handle);
  router.get('/:id', ...token, recordHandler(intake));
  router.all(['/', '/:id'], methodNotAllowed());
  return router;
}

/**
 * Before tus sees a PATCH, HEAD or DELETE: an id that is no upload of this caller's is 404; an upload
 * HeyGen has (or that was refused) is answered from its record, its bytes being gone: a retried final
 * PATCH whose first answer was lost gets the same answer again and nothing is sent twice; and an
 * upload that is being forwarded, or was, can no longer be terminated.
 */
function answerFinished(intake: ResumableIntake): RequestHandler {
  return async (req, res, next) => {
    const status = await intake.status(String(req.params.id), contextOf(res).tokenSubject);
    const refuseTermination = (): void => next(new ApiError('INVALID_TUS_REQUEST', 'This upload is complete and can no longer be terminated.'));
    switch (status.state) {
      case 'missing':
        next(new ApiError('UPLOAD_NOT_FOUND'));
        return;
      case 'refused':
        next(status.error);
        return;
      case 'forwarding':
        if (req.method === 'DELETE') refuseTermination();
        else next();
        return;
      case 'done': {
        if (req.method === 'DELETE') {
          refuseTermination();
          return;
        }
        const size = String(status.record.size_bytes);
        res.setHeader('Upload-Offset', size);
        res.setHeader('Upload-Length', size);
        if (req.method === 'HEAD') {
          res.status(200).end();
          return;
        }
        res.setHeader(ASSET_ID_HEADER, status.record.id);
        contextOf(res).mediaType = status.record.media_type;
        res.status(200).json(status.record);
        // The retry's body (normally empty) is not needed.
        req.resume();
        return;
      }
      default:
        next();
    }
  };
}

/**
 * GET /v1/uploads/<id> (a plain GET, for clients such as Uppy that keep only the upload URL): 200 and
 * the asset record once HeyGen has the file, 202 `{status:"uploading", upload_offset, upload_length}`
 * or `{status:"forwarding"}` before, or the catalogue error that ended it.
 */
function recordHandler(intake: ResumableIntake): RequestHandler {
  return async (req, res, next) => {
    answerStatus(await intake.status(String(req.params.id), contextOf(res).tokenSubject), res, next);
  };
}

function answerStatus(status: ResumableStatus, res: express.Response, next: express.NextFunction): void {
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
