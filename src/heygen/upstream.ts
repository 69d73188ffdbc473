import type { Readable } from 'node:stream';
import type { MediaKind } from '../config';
import type { UpstreamAsset } from './asset-record';

/** What every upload tells an adapter, however its bytes travel. */
interface UploadDescription {
  /** The checked MIME type, one of the five HeyGen takes. */
  readonly mediaType: string;
  /** The kind the checked type belongs to (HeyGen's `file_type`). */
  readonly mediaKind: MediaKind;
  /** A safe file name for HeyGen's records (the client's, cleaned, or one made from the type). */
  readonly filename: string;
  /**
   * Sent to HeyGen on every creating call, so that a retry (ours, or the client's with the same
   * Idempotency-Key) never creates a second asset. Derived from the client's key, else one per upload.
   */
  readonly idempotencyKey: string;
}

/**
 * A file whose every byte is known before the first goes out (spooled, or stored by the intake): its
 * exact size and checksum are sent ahead of it, and a failed attempt can be resent.
 */
export interface SizedUpload extends UploadDescription {
  readonly delivery: 'sized';
  readonly size: number;
  /**
   * Hex SHA-256 of the whole file: at hand when the core hashed it on the way in (a keyed upload, or
   * one that may go by direct upload), else read once from the file when an adapter first asks.
   */
  readonly checksum: () => Promise<string>;
  /** Opens the file from its first byte, once per attempt. */
  readonly open: () => Buffer | Readable;
}

/**
 * A file sent as it arrives (streaming mode): its size is not known until it ends, it can be read only
 * once, and it goes only to an upstream that takes it without a size (`maxStreamedBytes`).
 */
export interface StreamedUpload extends UploadDescription {
  readonly delivery: 'streamed';
  readonly body: Readable;
  /** Aborts the exchange when the client goes away or the file breaks a limit mid-stream. */
  readonly signal: AbortSignal;
}

/**
 * The upstream port: one upload that has passed every check, in the shape an adapter needs to hand it
 * to HeyGen. The core builds it; only the adapters know HeyGen's URLs, headers, envelopes and errors.
 */
export type UpstreamUpload = SizedUpload | StreamedUpload;

/** How one exchange with HeyGen went, for the upstream duration metric. */
export interface UpstreamAttempt {
  readonly outcome: 'success' | 'error' | 'timeout';
  readonly seconds: number;
}

/** One adapter per HeyGen API version. A failure rejects with an UpstreamFailure, never anything else. */
export interface Upstream {
  /**
   * The largest file this upstream takes as a StreamedUpload, before its size and checksum are known.
   * v1: any size; v3: its multipart cap, above which it needs a direct upload (a SizedUpload).
   */
  readonly maxStreamedBytes: number;
  send(upload: UpstreamUpload): Promise<UpstreamAsset>;
  /** Releases what the adapter holds open (keep-alive sockets). */
  close(): void;
}
