import type * as Jwt from 'jsonwebtoken';
import type { Secret } from '../secret';


/**
 * Upload tokens authorise one page's uploads: they live minutes (the default a minted token gets),
 * never more than an hour from `iat` to `exp`.
 */
export const MAX_UPLOAD_TOKEN_TTL_SECONDS = 60 * 60;
export const DEFAULT_UPLOAD_TOKEN_TTL_SECONDS = 5 * 60;

/**
 * How far ahead of this replica's clock a token's `iat` may be: the minting backend's clock may run a
 * little fast (NTP keeps hosts within milliseconds; 30 s absorbs a badly kept one), but no further,
 * or a token could be minted today to start its hour next year.
 */
export const UPLOAD_TOKEN_CLOCK_SKEW_SECONDS = 30;

/**
 * Upload tokens are standard JWTs (HS256) so that a customer's backend can mint them with any JWT
 * library: `sub` names the end user (it becomes the rate-limit key), `aud` is fixed, `exp` is
 * short. The algorithm is pinned on both sides, so a token cannot choose it ("alg: none").
 */
export const UPLOAD_TOKEN_AUDIENCE = 'heygen-upload-proxy';
export const UPLOAD_TOKEN_ALGORITHM = 'HS256';

let jwtModule: typeof Jwt | undefined;

/** jsonwebtoken adds ~10 MB of RSS; it is loaded the first time tokens are used, not at start. */
function jwt(): typeof Jwt {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  jwtModule ??= require('jsonwebtoken') as typeof Jwt;
  return jwtModule;
}

export interface UploadTokenClaims {
  readonly subject: string;
  readonly expiresAt: Date;
}

export function mintUploadToken(secret: Secret, subject: string, ttlSeconds = DEFAULT_UPLOAD_TOKEN_TTL_SECONDS): string {
  if (!subject) throw new TypeError('an upload token needs a subject (the end user it is for)');
  if (!(ttlSeconds > 0 && ttlSeconds <= MAX_UPLOAD_TOKEN_TTL_SECONDS)) {
    throw new TypeError(`an upload token lives 1 to ${MAX_UPLOAD_TOKEN_TTL_SECONDS} seconds`);
  }
  return jwt().sign({}, secret.reveal(), {
    algorithm: UPLOAD_TOKEN_ALGORITHM,
    audience: UPLOAD_TOKEN_AUDIENCE,
    subject,
    expiresIn: ttlSeconds,
  });
}

/**
 * The token's claims, or undefined when it is forged, expired, for another audience, or lives longer
 * than it may. jsonwebtoken checks the signature, `aud`, `exp` and `nbf`; its `maxAge` only bounds
 * how long ago `iat` was, so a token with `iat` a year ahead, or one minted for ten years, would pass
 * it. The lifetime is therefore checked here on the claims themselves: `iat` and `exp` both present,
 * `exp − iat` at most an hour, `iat` not ahead of our clock by more than the allowed skew, and `sub`
 * a non-empty string. `nowSeconds` is for tests at the edges.
 */
export function verifyUploadToken(secret: Secret, token: string, nowSeconds = Math.floor(Date.now() / 1000)): UploadTokenClaims | undefined {
  let claims: string | Jwt.JwtPayload;
  try {
    claims = jwt().verify(token, secret.reveal(), {
      algorithms: [UPLOAD_TOKEN_ALGORITHM],
      audience: UPLOAD_TOKEN_AUDIENCE,
      clockTimestamp: nowSeconds,
    });
  } catch {
    return undefined;
  }
  if (typeof claims === 'string') return undefined;
  const { sub, iat, exp } = claims as { sub?: unknown; iat?: unknown; exp?: unknown };
  if (typeof sub !== 'string' || sub.length === 0) return undefined;
  if (!isNumericDate(iat) || !isNumericDate(exp)) return undefined;
  if (exp - iat > MAX_UPLOAD_TOKEN_TTL_SECONDS) return undefined;
  if (iat > nowSeconds + UPLOAD_TOKEN_CLOCK_SKEW_SECONDS) return undefined;
  return { subject: sub, expiresAt: new Date(exp * 1000) };
}

/** A NumericDate as RFC 7519 defines it: seconds since the epoch, a finite number. */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
