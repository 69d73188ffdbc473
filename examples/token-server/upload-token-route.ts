import { type Request, Router } from 'express';
import jwt from 'jsonwebtoken';

/**
 * What the proxy checks (docs/api.md, "Upload tokens"): a JWT signed HS256 with UPLOAD_TOKEN_SECRET,
 * `aud` "heygen-upload-proxy", `sub` the end user, `iat` and `exp` at most an hour apart.
 */
const AUDIENCE = 'heygen-upload-proxy';
const ALGORITHM = 'HS256';

/** Long enough for one upload to start and finish: the proxy checks the token on every request of it. */
export const DEFAULT_TOKEN_TTL_SECONDS = 300;

export interface UploadTokenRouteOptions {
  /** The proxy's UPLOAD_TOKEN_SECRET: kept on your server, never sent to a page. */
  readonly secret: string;
  /** Who is signed in on this request (your session), or undefined. */
  readonly userOf: (req: Request) => string | undefined;
  /** How long a token lives (at most 3600, the proxy's limit); DEFAULT_TOKEN_TTL_SECONDS unless set. */
  readonly ttlSeconds?: number;
  /** Seconds since the epoch; the system clock unless a test says otherwise. */
  readonly now?: () => number;
}

/**
 * `POST /upload-token`: for a signed-in user, a short-lived upload token naming them; 401 otherwise.
 * The page fetches it just before an upload and sends it to the proxy as `Authorization: Bearer`.
 * POST, a same-site cookie and no CORS headers: another site can neither make a signed-in browser
 * mint one nor read the answer.
 */
export function uploadTokenRoute(options: UploadTokenRouteOptions): Router {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
  const now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
  const router = Router();
  router.post('/upload-token', (req, res) => {
    const user = options.userOf(req);
    res.setHeader('Cache-Control', 'no-store');
    if (user === undefined) {
      res.status(401).json({ error: 'Sign in to upload.' });
      return;
    }
    const issuedAt = now();
    const token = jwt.sign({ iat: issuedAt, exp: issuedAt + ttlSeconds }, options.secret, {
      algorithm: ALGORITHM,
      audience: AUDIENCE,
      subject: user,
    });
    res.json({ token, expires_in: ttlSeconds });
  });
  return router;
}
