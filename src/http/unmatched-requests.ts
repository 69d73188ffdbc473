import type { RequestHandler } from 'express';
import { ApiError } from '../errors';

/** The answers for a request no route takes: a path that is not there (404), and a method a path does not take (405). */
export function notFound(): RequestHandler {
  return (_req, _res, next) => next(new ApiError('NOT_FOUND'));
}

export function methodNotAllowed(): RequestHandler {
  return (_req, _res, next) => next(new ApiError('METHOD_NOT_ALLOWED'));
}
