import cors from 'cors';
import type { Request, RequestHandler } from 'express';
import { ApiError } from '../errors';

/** Headers a browser app may send and read on the upload routes. */
const ALLOWED_REQUEST_HEADERS = ['Content-Type', 'Authorization', 'Idempotency-Key', 'X-Request-Id'];
const EXPOSED_RESPONSE_HEADERS = ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Idempotent-Replayed'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Which browser origins may call the API. Listed origins (ALLOWED_ORIGINS) get CORS answers; with
 * no list, only same-origin pages may (and no CORS headers are sent at all). Requests without an
 * Origin header (servers, curl) always pass.
 */
export function isOriginAllowed(req: Request, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  if (allowedOrigins !== undefined) return allowedOrigins.includes(origin);
  return URL.canParse(origin) && new URL(origin).host === req.get('host');
}

/** What a route adds to the CORS answers (the tus endpoint: its methods and protocol headers). */
export interface CorsExtras {
  readonly methods?: readonly string[];
  readonly allowedHeaders?: readonly string[];
  readonly exposedHeaders?: readonly string[];
  /** Hand OPTIONS on to the route after the CORS headers are set (tus answers OPTIONS itself). */
  readonly preflightContinue?: boolean;
}

/**
 * A cross-site form POST is a "simple request": the browser sends it, body and all, without asking
 * first, and CORS only hides the answer. So refusing a foreign Origin outright (403, nothing read,
 * nothing forwarded) is what actually protects the quota; CORS then lets listed origins read answers.
 */
export function originPolicy(allowedOrigins: readonly string[] | undefined, extra: CorsExtras = {}): RequestHandler[] {
  const enforce: RequestHandler = (req, _res, next) => {
    next(isOriginAllowed(req, allowedOrigins) ? undefined : new ApiError('ORIGIN_NOT_ALLOWED'));
  };
  if (allowedOrigins === undefined) return [enforce];
  const corsHeaders = cors({
    origin: [...allowedOrigins],
    methods: ['GET', 'POST', ...(extra.methods ?? [])],
    allowedHeaders: [...ALLOWED_REQUEST_HEADERS, ...(extra.allowedHeaders ?? [])],
    exposedHeaders: [...EXPOSED_RESPONSE_HEADERS, ...(extra.exposedHeaders ?? [])],
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
    ...(extra.preflightContinue ? { preflightContinue: true } : {}),
  });
  return [enforce, corsHeaders];
}
