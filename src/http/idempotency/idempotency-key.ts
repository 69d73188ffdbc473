import type { Request } from 'express';
import { ApiError } from '../../errors';

/** The header clients send to make a retry safe (the IETF httpapi draft's name, as Stripe uses it). */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

/** Tight on purpose: the key ends up in store keys and logs, so no spaces, quotes or control characters. */
const WELL_FORMED_KEY = /^[A-Za-z0-9_:.-]{1,255}$/;

/**
 * The request's Idempotency-Key, or undefined when it sent none. A key that is present but malformed
 * (empty, too long, odd characters, or sent twice) is refused rather than ignored: ignoring it would
 * silently turn a retry the client believes is safe into a second upload.
 */
export function idempotencyKeyOf(req: Request): string | undefined {
  const raw = req.headers[IDEMPOTENCY_KEY_HEADER.toLowerCase()];
  if (raw === undefined) return undefined;
  // Node joins repeated headers with ", ", which the pattern rejects: two keys name no single upload.
  if (typeof raw !== 'string' || !WELL_FORMED_KEY.test(raw)) throw new ApiError('INVALID_IDEMPOTENCY_KEY');
  return raw;
}
