import type { S3 } from '@aws-sdk/client-s3';
import type { CompletionRecord, CompletionRecordStore } from './completion-records';
import { absentIfNotFound } from './s3-not-found';
import { objectsIn } from './s3-listing';

/** Records live under this prefix in the uploads' bucket, apart from @tus/s3-store's objects at the top level. */
const PREFIX = 'records/';

/** S3 deletes at most this many keys per DeleteObjects request. */
const DELETE_BATCH = 1000;

/**
 * Completion records as small JSON objects in the bucket beside the uploads: with S3 there is no
 * shared directory, and the bucket is the one place every replica already reaches. A PUT replaces an
 * object whole, so a reader sees the old record or the new one, never half of either.
 */
export function s3CompletionRecords(client: S3, bucket: string): CompletionRecordStore {
  const keyOf = (id: string): string => `${PREFIX}${id}.json`;
  return {
    async read(id) {
      // No record is "not finished yet"; a failed read is thrown, never taken for that (a client told
      // 404 for a finished upload would start it again and HeyGen would get it twice).
      const object = await client.getObject({ Bucket: bucket, Key: keyOf(id) }).catch(absentIfNotFound);
      if (object === undefined) return undefined;
      return JSON.parse((await object.Body?.transformToString('utf8')) ?? '') as CompletionRecord;
    },
    async write(id, record) {
      await client.putObject({ Bucket: bucket, Key: keyOf(id), Body: JSON.stringify(record), ContentType: 'application/json' });
    },
    async removeOlderThan(ageMs) {
      const cutoff = Date.now() - ageMs;
      const old: string[] = [];
      for await (const object of objectsIn(client, { Bucket: bucket, Prefix: PREFIX })) {
        if (object.Key !== undefined && (object.LastModified?.getTime() ?? Infinity) < cutoff) old.push(object.Key);
      }
      for (let at = 0; at < old.length; at += DELETE_BATCH) {
        await client.deleteObjects({ Bucket: bucket, Delete: { Objects: old.slice(at, at + DELETE_BATCH).map((key) => ({ Key: key })) } });
      }
      return old.length;
    },
  };
}
