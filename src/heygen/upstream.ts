import type { Readable } from 'node:stream';
import type { UpstreamAsset } from './asset-record';

/**
 * The upstream port: one upload that has passed every check, in the shape an adapter needs to hand it
 * to HeyGen. The core builds it; only the adapters know HeyGen's URLs, headers, envelopes and errors.
 */
export interface UpstreamUpload {
  /** The checked MIME type, one of the five HeyGen takes. */
  readonly mediaType: string;
  /** A safe file name for HeyGen's records (the client's, cleaned, or one made from the type). */
  readonly filename: string;
  /** Builds the body for one attempt (a retry needs a fresh stream). */
  readonly body: () => Buffer | Readable;
  /** The exact size when it is known before sending (buffered mode); without it the body goes chunked. */
  readonly size?: number;
  /** Hex SHA-256 of the whole file, when it is known before sending. */
  readonly sha256?: string;
  /** The body can be built again, so a failed attempt may be resent. */
  readonly replayable: boolean;
  /**
   * Sent to HeyGen on every creating call, so that a retry (ours, or the client's with the same
   * Idempotency-Key) never creates a second asset. Derived from the client's key, else one per upload.
   */
  readonly idempotencyKey: string;
  /** Aborts the exchange, e.g. when the client goes away or breaks a limit mid-stream. */
  readonly signal?: AbortSignal;
}

/** How one exchange with HeyGen went, for the upstream duration metric. */
export interface UpstreamAttempt {
  readonly outcome: 'success' | 'error' | 'timeout';
  readonly seconds: number;
}

/** One adapter per HeyGen API version. A failure rejects with an UpstreamFailure, never anything else. */
export interface Upstream {
  /**
   * The largest file this upstream takes while its size and checksum are still unknown (a body sent
   * as it arrives). v1: any size; v3: its multipart cap, above which it needs a direct upload.
   */
  readonly unsizedLimitBytes: number;
  send(upload: UpstreamUpload): Promise<UpstreamAsset>;
  /** Releases what the adapter holds open (keep-alive sockets). */
  close(): void;
}
