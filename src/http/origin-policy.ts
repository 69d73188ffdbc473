import cors from 'cors';
import type { Request, RequestHandler } from 'express';
import { ApiError } from '../errors';
import { contextOf } from '../request-context';
import { ALLOWED_REQUEST_HEADERS, refusedRequestHeaders } from './cors-request-headers';

/** Headers a browser app may read on these routes (the request side is in cors-request-headers.ts). */
const EXPOSED_RESPONSE_HEADERS = ['X-Request-Id', 'RateLimit', 'RateLimit-Policy', 'Retry-After', 'Idempotent-Replayed'];
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Which browser origins may call the API: exactly those listed in ALLOWED_ORIGINS (scheme, host and
 * port, compared as strings). With no list, no browser page may: a request carrying any Origin is
 * refused. Comparing the Origin with the request's own Host header instead would let any site in
 * through DNS rebinding (its page, served from evil.example resolved to this service, sends
 * `Origin: http://evil.example` with `Host: evil.example`), and it ignores the scheme; the service
 * cannot know its public origin unless told, so a page that should upload is listed, even a
 * same-origin one (browsers send Origin on every POST). Requests without an Origin header (servers,
 * curl) always pass.
 */
export function isOriginAllowed(req: Request, allowedOrigins: readonly string[] | undefined): boolean {
  const origin = req.get('origin');
  if (origin === undefined) return true;
  return allowedOrigins !== undefined && allowedOrigins.includes(origin);
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
  const enforce: RequestHandler = (req, res, next) => {
    if (isOriginAllowed(req, allowedOrigins)) return next();
    contextOf(res).errorDetail = refusalDetail(req.get('origin') ?? '', allowedOrigins);
    next(new ApiError('ORIGIN_NOT_ALLOWED'));
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
  return [enforce, notePreflightRefusals, corsHeaders];
}

/** The longest Origin the log line repeats: a browser's is short; a hand-made one could be anything. */
const LOGGED_ORIGIN_CHARS = 200;

/**
 * The browser shows the page only a network error for this 403 (no CORS headers), so the request's log
 * line names the origin that was refused and what the list holds: the integrator can compare the two
 * (a typo, http against https, a port) from the proxy's side.
 */
function refusalDetail(origin: string, allowedOrigins: readonly string[] | undefined): string {
  const shown = JSON.stringify(origin.length > LOGGED_ORIGIN_CHARS ? `${origin.slice(0, LOGGED_ORIGIN_CHARS)}…` : origin);
  return allowedOrigins === undefined
    ? `origin ${shown} refused: ALLOWED_ORIGINS is unset, so every browser origin is refused`
    : `origin ${shown} refused: not in ALLOWED_ORIGINS (${allowedOrigins.join(', ') || 'empty'})`;
}

/**
 * A preflight that asks for a header outside the list is still answered the standard way (the
 * allowed list, which does not cover it), so the browser refuses the request itself. The page's code
 * sees only a network error (only the developer console says more, and users' error reports never
 * carry it), so the request's log line names the refused header(s): an integrator can find out why
 * from the proxy's side.
 */
const notePreflightRefusals: RequestHandler = (req, res, next) => {
  if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
    const refused = refusedRequestHeaders(req.get('access-control-request-headers'));
    if (refused.length > 0) contextOf(res).errorDetail = `preflight refused headers: ${refused.join(', ')}`;
  }
  next();
};
