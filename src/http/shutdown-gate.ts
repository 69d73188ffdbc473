import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import type { Readiness } from '../ops/readiness';

/** Once shutdown has begun, new uploads are refused (uploads already in flight go on). */
export function shutdownGate(readiness: Readiness): RequestHandler {
  return (_req, res, next) => {
    if (!readiness.shuttingDown) {
      next();
      return;
    }
    res.setHeader('Connection', 'close');
    next(new ApiError('SHUTTING_DOWN', undefined, { headers: { 'Retry-After': '1' } }));
  };
}
