import type { S3 } from '@aws-sdk/client-s3';
import type { CompletionRecord, CompletionRecordStore } from './completion-records';

/** Records live under this prefix in the uploads' bucket, apart from @tus/s3-store's objects at the top level. */
const PREFIX = 'records/';

/**
 * Completion records as small JSON objects in the bucket beside the uploads: with S3 there is no
 * shared directory, and the bucket is the one place every replica already reaches. A PUT replaces an
 * object whole, so a reader sees the old record or the new one, never half of either.
 */
export class S3CompletionRecords implements CompletionRecordStore {
  readonly #client: S3;
  readonly #bucket: string;

  constructor(client: S3, bucket: string) {
    this.#client = client;
    this.#bucket = bucket;
  }

  async read(id: string): Promise<CompletionRecord | undefined> {
    try {
      const object = await this.#client.getObject({ Bucket: this.#bucket, Key: `${PREFIX}${id}.json` });
      return JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as CompletionRecord;
    } catch {
      return undefined;
    }
  }

  async write(id: string, record: CompletionRecord): Promise<void> {
    await this.#client.putObject({ Bucket: this.#bucket, Key: `${PREFIX}${id}.json`, Body: JSON.stringify(record), ContentType: 'application/json' });
  }

  async removeOlderThan(ageMs: number): Promise<number> {
    const cutoff = Date.now() - ageMs;
    let removed = 0;
    let token: string | undefined;
    do {
      const page = await this.#client.listObjectsV2({ Bucket: this.#bucket, Prefix: PREFIX, ...(token === undefined ? {} : { ContinuationToken: token }) });
      const old = (page.Contents ?? []).filter((object) => object.Key !== undefined && (object.LastModified?.getTime() ?? Infinity) < cutoff);
      if (old.length > 0) {
        await this.#client.deleteObjects({ Bucket: this.#bucket, Delete: { Objects: old.map((object) => ({ Key: object.Key })) } });
        removed += old.length;
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return removed;
  }
}
