import type { RequestHandler } from 'express';
import { ApiError } from '../errors';
import type { Secret } from '../secret';
import { verifyUploadToken } from './upload-token';
import { contextOf } from '../request-context';

/** With UPLOAD_TOKEN_SECRET set, every upload needs `Authorization: Bearer <token>` minted by the customer. */
export function requireUploadToken(secret: Secret): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header);
    const claims = match ? verifyUploadToken(secret, match[1]!) : undefined;
    if (claims === undefined) {
      next(new ApiError('UNAUTHORIZED', undefined, { headers: { 'WWW-Authenticate': 'Bearer realm="uploads"' } }));
      return;
    }
    contextOf(res).tokenSubject = claims.subject;
    next();
  };
}
