import type { Readable } from 'node:stream';
import type { AssetRecord } from './asset-record';

/**
 * The upstream port: one upload that has passed every check, in the shape an adapter needs to hand it
 * to HeyGen. The core builds it; only the adapters know HeyGen's URLs, headers, envelopes and errors.
 */
export interface UpstreamUpload {
  /** The checked MIME type, one of the five HeyGen takes. */
  readonly mediaType: string;
  /** Builds the body for one attempt (a retry needs a fresh stream). */
  readonly body: () => Buffer | Readable;
  /** The exact size when it is known before sending (buffered mode); without it the body goes chunked. */
  readonly size?: number;
  /** The body can be built again, so a connection that failed before any answer may be retried. */
  readonly replayable: boolean;
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
  send(upload: UpstreamUpload): Promise<AssetRecord>;
  /** Releases what the adapter holds open (keep-alive sockets). */
  close(): void;
}
