import type { _Object, ListObjectsV2CommandInput, S3 } from '@aws-sdk/client-s3';

/** Every object a listing names, page after page (S3 answers at most 1,000 per request). */
export async function* objectsIn(client: S3, listing: Omit<ListObjectsV2CommandInput, 'ContinuationToken'>): AsyncGenerator<_Object> {
  let token: string | undefined;
  do {
    const page = await client.listObjectsV2({ ...listing, ...(token === undefined ? {} : { ContinuationToken: token }) });
    yield* page.Contents ?? [];
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
}
