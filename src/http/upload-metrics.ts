import type { RequestHandler } from 'express';
import type { Metrics } from '../ops/metrics';
import { contextOf } from '../request-context';

/** Counts every upload (POST) once it ends, whatever stopped it, and tracks how many are in flight. */
export function uploadMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST') {
      next();
      return;
    }
    const context = contextOf(res);
    metrics.inFlight.inc();
    res.once('close', () => {
      metrics.inFlight.dec();
      const outcome = context.answered ? (context.errorCode ?? 'success') : 'CLIENT_CLOSED';
      const mediaType = context.mediaType ?? 'unknown';
      metrics.uploads.inc({ outcome, media_type: mediaType });
      metrics.uploadDuration.observe({ outcome }, (performance.now() - context.startedAt) / 1000);
      if (outcome === 'success' && context.bytes !== undefined) {
        metrics.uploadBytes.observe({ media_type: mediaType }, context.bytes);
      }
      if (context.upstreamRefusal !== undefined) metrics.upstreamRefusals.inc({ reason: context.upstreamRefusal });
      if (context.errorCode !== undefined && !context.errorCode.startsWith('UPSTREAM_')) {
        metrics.rejected.inc({ code: context.errorCode });
      }
    });
    next();
  };
}
