import type { RequestHandler } from 'express';
import { ApiError } from '../errors';

export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new ApiError('NOT_FOUND'));
}

export function methodNotAllowed(): RequestHandler {
  return (_req, _res, next) => next(new ApiError('METHOD_NOT_ALLOWED'));
}
