import type { Request, Response } from 'express';
import { ipKeyGenerator } from 'express-rate-limit';
import { contextOf } from '../request-context';

/**
 * Who the client is, in one place: the upload token's subject when tokens are on, else its IP (an
 * IPv6 client by its /56), where the IP is the socket's unless TRUST_PROXY names the proxies whose
 * X-Forwarded-For may be believed. The rate limit counts under it, idempotency records are kept per
 * it, and the log line carries it, so changing it changes all three together.
 */
export function clientKeyOf(req: Request, res: Response): string {
  const context = contextOf(res);
  context.clientKey ??= context.tokenSubject !== undefined ? `sub:${context.tokenSubject}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
  return context.clientKey;
}
