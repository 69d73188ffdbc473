import { PassThrough, pipeline, type Readable } from 'node:stream';
import { HeadBucketCommand, S3, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type MetadataValue, S3Store } from '@tus/s3-store';
import { ERRORS, type KvStore, type Upload } from '@tus/utils';
import { SPOOL_BUFFER_BYTES } from '../../upload/spool';
import type { BackingStore, ResumableStorage } from './backing-store';
import { s3CompletionRecords } from './s3-completion-records';
import { objectsIn } from './s3-listing';
import { absentIfNotFound, isNotFound } from './s3-not-found';

/** Where RESUMABLE_STORE=s3 keeps uploads. Credentials are never named here: the SDK's default chain finds them. */
export interface S3Location {
  readonly bucket: string;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
}

/** @tus/s3-store's part size: its default, and the unit of its temp files (see docs/resumable.md). */
export const S3_PART_BYTES = 8 * 1024 * 1024;
/** The smallest part S3 takes (all but the last); fewer bytes wait in `<id>.part` (@tus/s3-store's default). */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

/** The info objects @tus/s3-store writes beside each upload (`<id>.info`), one per upload. */
const INFO_KEY = /^([0-9a-f]{32})\.info$/;

/**
 * RESUMABLE_STORE=s3: uploads in a bucket (AWS S3 or any S3-compatible store), through @tus/s3-store;
 * completion records as small objects beside them. `partUploads` bounds the parts buffered on local
 * disk at once (each up to S3_PART_BYTES) across every PATCH of this replica.
 */
export function s3Storage(options: { location: S3Location; expiryMs: number; partUploads: number }): ResumableStorage {
  const { bucket, region, endpoint, forcePathStyle } = options.location;
  const clientConfig: S3ClientConfig = {
    forcePathStyle,
    // Checksums only where an operation requires them: the SDK's default since 2025 (a streamed
    // aws-chunked body with a trailing CRC) is refused by many S3-compatible stores (Ceph RGW before
    // Reef answers 411), while AWS S3 takes either.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(region === undefined ? {} : { region }),
    ...(endpoint === undefined ? {} : { endpoint }),
  };
  const client = new S3(clientConfig);
  return {
    backing: new S3BackingStore(client, bucket, new S3TusStore({ s3ClientConfig: { ...clientConfig, bucket }, client, expirationPeriodInMilliseconds: options.expiryMs, maxConcurrentPartUploads: options.partUploads })),
    records: s3CompletionRecords(client, bucket),
    readiness: {
      name: 'resumable_store',
      async check() {
        try {
          await client.send(new HeadBucketCommand({ Bucket: bucket }));
          return { ok: true, status: 'ok' };
        } catch (error) {
          // The S3 error's name (AccessDenied, NoSuchBucket, NotFound, ...) says what to fix; nothing secret is in it.
          return { ok: false, status: (error as { name?: string }).name ?? 'unreachable' };
        }
      },
    },
  };
}

/**
 * @tus/s3-store, with the replicas in mind: it reads an upload's info from the bucket every time
 * rather than from a per-process cache (another replica may have finished or removed the upload
 * since), it shares the client the records use, and removal takes everything an upload has (below).
 */
class S3TusStore extends S3Store {
  constructor(options: ConstructorParameters<typeof S3Store>[0] & { client: S3 }) {
    const { client, ...rest } = options;
    // No Tus-Completed tags: they serve bucket lifecycle rules, cost s3:PutObjectTagging, and the
    // cleanup here expires uploads itself (CheckedStore.deleteExpired).
    super({ ...rest, partSize: S3_PART_BYTES, minPartSize: S3_MIN_PART_BYTES, cache: new NoCache(), useTags: false });
    this.client = client;
  }

  /**
   * The store's own remove() aborts the multipart upload first and gives up when that fails, which it
   * does for every finished upload (its multipart upload is complete, so S3 answers NoSuchUpload): the
   * object and its info would stay in the bucket. Here a missing multipart upload is no reason to keep
   * them, and the incomplete part goes too.
   */
  override async remove(id: string): Promise<void> {
    let uploadId: string;
    try {
      uploadId = (await this.getMetadata(id))['upload-id'];
    } catch (error) {
      throw isNotFound(error) ? ERRORS.FILE_NOT_FOUND : error;
    }
    await this.client.abortMultipartUpload({ Bucket: this.bucket, Key: id, UploadId: uploadId }).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    await this.client.deleteObjects({ Bucket: this.bucket, Delete: { Objects: [{ Key: id }, { Key: this.infoKey(id) }, { Key: this.partKey(id, true) }] } });
  }

  /**
   * The upload's info, or undefined when it is not there. Any other failure (throttling, a 500, no
   * permission) is thrown: an owner check must never read "no info" as "no owner".
   */
  async storedInfo(id: string): Promise<Upload | undefined> {
    try {
      return (await this.getMetadata(id)).file;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The key of an upload's incomplete part (`<id>.part`), as the library names it. */
  incompletePartKey(id: string): string {
    return this.partKey(id, true);
  }
}

/** A KvStore that keeps nothing: every replica reads the bucket's own info object. */
class NoCache implements KvStore<MetadataValue> {
  get(): Promise<MetadataValue | undefined> {
    return Promise.resolve(undefined);
  }
  set(): Promise<void> {
    return Promise.resolve();
  }
  delete(): Promise<void> {
    return Promise.resolve();
  }
}

class S3BackingStore implements BackingStore {
  readonly tus: S3TusStore;
  readonly #client: S3;
  readonly #bucket: string;

  constructor(client: S3, bucket: string, tus: S3TusStore) {
    this.#client = client;
    this.#bucket = bucket;
    this.tus = tus;
  }

  info(id: string): Promise<Upload | undefined> {
    return this.tus.storedInfo(id);
  }

  /**
   * Below the smallest part (5 MiB) every byte of an unfinished upload is in its incomplete part
   * (`<id>.part`); a finished upload is one object. The head is read from whichever exists.
   */
  async readHead(id: string, count: number): Promise<Buffer> {
    const range = `bytes=0-${count - 1}`;
    const part = await this.#client.getObject({ Bucket: this.#bucket, Key: this.tus.incompletePartKey(id), Range: range }).catch(absentIfNotFound);
    const whole = part ?? (await this.#client.getObject({ Bucket: this.#bucket, Key: id, Range: range }).catch(absentIfNotFound));
    if (whole?.Body === undefined) return Buffer.alloc(0);
    return Buffer.from(await whole.Body.transformToByteArray()).subarray(0, count);
  }

  open(id: string): Readable {
    // The forward wants a stream at once; the object's body arrives after one request.
    const out = new PassThrough({ highWaterMark: SPOOL_BUFFER_BYTES });
    void this.tus.read(id).then(
      // pipeline, not pipe: a reader gone before the body arrived (out already destroyed) ends the
      // body's connection to S3 too, instead of leaving it paused and open.
      (body) => pipeline(body, out, () => undefined),
      (error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))),
    );
    return out;
  }

  async list(): Promise<string[]> {
    const ids: string[] = [];
    // Delimiter '/': only the bucket's top level, where the uploads are (the records are under records/).
    for await (const object of objectsIn(this.#client, { Bucket: this.#bucket, Delimiter: '/' })) {
      const match = INFO_KEY.exec(object.Key ?? '');
      if (match?.[1] !== undefined) ids.push(match[1]);
    }
    return ids;
  }
}
