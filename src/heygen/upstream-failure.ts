/**
 * Why an upstream exchange failed, for the logs only: clients get a catalogue error, never this.
 * `retryable` marks a connection failure before any response byte, which cannot have created an asset.
 */
export class UpstreamFailure extends Error {
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;

  constructor(message: string, options: { retryable?: boolean; upstreamStatus?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UpstreamFailure';
    this.retryable = options.retryable ?? false;
    this.upstreamStatus = options.upstreamStatus;
  }
}
