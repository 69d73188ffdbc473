import { Router } from 'express';
import { ApiError } from '../errors';
import type { Metrics } from '../ops/metrics';
import type { Readiness } from '../ops/readiness';
import { sendError } from './error-handler';
import { methodNotAllowed } from './unmatched-requests';

/** /healthz (the process is alive), /readyz (send it uploads), /metrics (Prometheus). */
export function healthRoutes(readiness: Readiness, metrics: Metrics): Router {
  const router = Router();
  router
    .route('/healthz')
    .get((_req, res) => {
      res.json({ status: 'ok' });
    })
    .all(methodNotAllowed());
  router
    .route('/readyz')
    .get(async (_req, res) => {
      const { ready, checks } = await readiness.report();
      if (ready) {
        res.json({ status: 'ready', checks });
        return;
      }
      sendError(res, new ApiError(readiness.shuttingDown ? 'SHUTTING_DOWN' : 'NOT_READY'), { checks });
    })
    .all(methodNotAllowed());
  router
    .route('/metrics')
    .get(async (_req, res) => {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    })
    .all(methodNotAllowed());
  return router;
}
