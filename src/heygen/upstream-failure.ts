/**
 * What went wrong with HeyGen, as data: which kind of failure (the edge maps each kind to the client's
 * answer), whether it is safe to retry, and words for the logs only. Clients get a catalogue error,
 * never this message, and the adapters scrub the key out of it before it is built.
 */
export type UpstreamFailureKind =
  /** HeyGen did not answer, or stopped moving, within the upstream timeout. */
  | 'timeout'
  /** Anything else: a non-2xx, an unreadable body, a redirect, a dropped connection. */
  | 'failed';

export class UpstreamFailure extends Error {
  readonly kind: UpstreamFailureKind;
  /** A connection failure before any response byte: it cannot have created an asset. */
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;

  constructor(
    message: string,
    options: { kind?: UpstreamFailureKind; retryable?: boolean; upstreamStatus?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'UpstreamFailure';
    this.kind = options.kind ?? 'failed';
    this.retryable = options.retryable ?? false;
    this.upstreamStatus = options.upstreamStatus;
  }
}

export function isUpstreamFailure(value: unknown): value is UpstreamFailure {
  return value instanceof UpstreamFailure;
}
