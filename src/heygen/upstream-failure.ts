/**
 * What went wrong with HeyGen, as data: which kind of failure (the edge maps each kind to what the
 * client should do next), whether it is safe to retry, and words for the logs only. Clients get a
 * catalogue error, never this message, and every adapter's failures leave through withSecretScrubbed
 * (scrub-secret.ts), which takes the key out of it.
 */
export type UpstreamFailureKind =
  /** HeyGen is rate-limiting this account: the client should retry later (Retry-After). */
  | 'rate-limited'
  /** HeyGen refused the file itself although our checks passed: resending it unchanged will not help. */
  | 'rejected-file'
  /** HeyGen refused the server's key or account (invalid key, forbidden, out of credit): an operator's problem. */
  | 'credentials'
  /** The file is larger than HeyGen takes (its direct upload's max_bytes). */
  | 'too-large'
  /** HeyGen did not answer, or stopped moving, within the upstream timeout. */
  | 'timeout'
  /** Anything else: a 5xx, an unreadable body, a redirect, a dropped connection. */
  | 'failed';

/** Why HeyGen refused the server's credentials, for the log and the refusal metric's label. */
export type CredentialsReason = 'key_invalid' | 'forbidden' | 'insufficient_credit';

export interface UpstreamFailureOptions {
  readonly kind?: UpstreamFailureKind;
  readonly retryable?: boolean;
  readonly upstreamStatus?: number;
  readonly retryAfterSeconds?: number;
  readonly reason?: CredentialsReason;
  readonly cause?: unknown;
}

export class UpstreamFailure extends Error {
  readonly kind: UpstreamFailureKind;
  /** Safe to send again: it cannot have created an asset (or HeyGen's Idempotency-Key makes a resend harmless). */
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;
  /** From HeyGen's Retry-After, bounded; set on 'rate-limited'. */
  readonly retryAfterSeconds: number | undefined;
  /** Set on 'credentials'. */
  readonly reason: CredentialsReason | undefined;

  constructor(message: string, options: UpstreamFailureOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'UpstreamFailure';
    this.kind = options.kind ?? 'failed';
    this.retryable = options.retryable ?? false;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.reason = options.reason;
  }

  /** The same failure with another message (withSecretScrubbed's, with the key taken out). */
  withMessage(message: string): UpstreamFailure {
    return new UpstreamFailure(message, {
      kind: this.kind,
      retryable: this.retryable,
      upstreamStatus: this.upstreamStatus,
      retryAfterSeconds: this.retryAfterSeconds,
      reason: this.reason,
    });
  }
}

export function isUpstreamFailure(value: unknown): value is UpstreamFailure {
  return value instanceof UpstreamFailure;
}
