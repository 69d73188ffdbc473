import type { Readable } from 'node:stream';
import type { DataStore, Upload } from '@tus/utils';
import type { ReadinessCheck } from '../../ops/readiness';
import type { CompletionRecordStore } from './completion-records';

/**
 * What the resumable intake needs from where uploads are kept, whichever store that is (the shared
 * directory, @tus/file-store; or a bucket, @tus/s3-store): the tus project's own DataStore for the
 * protocol, plus the few reads the checks, the forward and the start need. The intake never learns
 * which store it has; CheckedStore adds the checks once for both.
 */
export interface BackingStore {
  /** The tus project's store: create, write, getUpload, remove, read, deleteExpired, extensions. */
  readonly tus: DataStore;
  /** An upload's stored info (size, metadata, creation date) without its offset, or undefined when it is gone. */
  info(id: string): Promise<Upload | undefined>;
  /**
   * Up to `count` stored bytes from offset 0, as far as the store can read them back: all of them for
   * a file, and for an S3 upload the bytes still in its incomplete part or in its finished object
   * (bytes already sent as a multipart part cannot be read until the upload completes).
   */
  readHead(id: string, count: number): Promise<Buffer>;
  /** A fresh read of a finished upload's bytes from the first (errors arrive on the stream). */
  open(id: string): Readable;
  /** The ids of every upload the store holds (for the start's adoption and the expiry sweep). */
  list(): Promise<string[]>;
}

/** One store choice, whole: where bytes go, where completion records go, and how readiness sees it. */
export interface ResumableStorage {
  readonly backing: BackingStore;
  readonly records: CompletionRecordStore;
  /** For a remote store (a bucket): readiness fails while it cannot be reached or used. */
  readonly readiness?: ReadinessCheck;
}
