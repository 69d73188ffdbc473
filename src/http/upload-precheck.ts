import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import { fileTooLarge } from '../upload/admission';
import { largestFileBytes, type MediaLimits } from '../upload/media-types';
import { MULTIPART_OVERHEAD_ALLOWANCE } from '../intake/multipart/form-limits';

/**
 * Refusals that need only the headers: a body that is not multipart, and a Content-Length that is
 * already too large to hold a legal upload of any type.
 */
export function uploadPrecheck(maxBytes: MediaLimits): RequestHandler {
  const largestFile = largestFileBytes(maxBytes);
  const largestBody = largestFile + MULTIPART_OVERHEAD_ALLOWANCE;
  return (req, _res, next) => {
    if (!req.is('multipart/form-data')) {
      next(new ApiError('NOT_MULTIPART'));
      return;
    }
    const declaredLength = Number(req.get('content-length'));
    if (Number.isFinite(declaredLength) && declaredLength > largestBody) {
      next(fileTooLarge(maxBytes));
      return;
    }
    next();
  };
}
