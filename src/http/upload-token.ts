import type * as Jwt from 'jsonwebtoken';
import type { Secret } from '../secret';

/**
 * Upload tokens are standard JWTs (HS256) so that a customer's backend can mint them with any JWT
 * library: `sub` names the end user (it becomes the rate-limit key), `aud` is fixed, `exp` is
 * short. The algorithm is pinned on both sides, so a token cannot choose it ("alg: none").
 */
export const UPLOAD_TOKEN_AUDIENCE = 'heygen-upload-proxy';
export const UPLOAD_TOKEN_ALGORITHM = 'HS256';
/** Tokens live minutes, not hours: they authorise one page's uploads. */
export const MAX_UPLOAD_TOKEN_TTL_SECONDS = 60 * 60;
export const DEFAULT_UPLOAD_TOKEN_TTL_SECONDS = 5 * 60;

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

/** The token's claims, or undefined when it is forged, expired, for another audience or too long-lived. */
export function verifyUploadToken(secret: Secret, token: string): UploadTokenClaims | undefined {
  try {
    const claims = jwt().verify(token, secret.reveal(), {
      algorithms: [UPLOAD_TOKEN_ALGORITHM],
      audience: UPLOAD_TOKEN_AUDIENCE,
      maxAge: MAX_UPLOAD_TOKEN_TTL_SECONDS,
    });
    if (typeof claims === 'string' || !claims.sub || claims.exp === undefined) return undefined;
    return { subject: claims.sub, expiresAt: new Date(claims.exp * 1000) };
  } catch {
    return undefined;
  }
}
