import type { RequestHandler } from 'express';
import type { MediaKind } from '../config';
import { ApiError } from '../errors';
import { describeBytes } from './heygen-storage';
import { MULTIPART_OVERHEAD_ALLOWANCE } from './upload-parser';

/**
 * Refusals that need only the headers: a body that is not multipart, and a Content-Length that is
 * already too large to hold a legal upload of any type.
 */
export function uploadPrecheck(maxBytes: Readonly<Record<MediaKind, number>>): RequestHandler {
  const largestFile = Math.max(...Object.values(maxBytes));
  const largestBody = largestFile + MULTIPART_OVERHEAD_ALLOWANCE;
  return (req, _res, next) => {
    if (!req.is('multipart/form-data')) {
      next(new ApiError('NOT_MULTIPART'));
      return;
    }
    const declaredLength = Number(req.get('content-length'));
    if (Number.isFinite(declaredLength) && declaredLength > largestBody) {
      next(new ApiError('FILE_TOO_LARGE', `Files may be at most ${describeBytes(largestFile)}.`));
      return;
    }
    next();
  };
}
