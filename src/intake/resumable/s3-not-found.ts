/** S3's answers for a key or a multipart upload that is not there (RGW and others use NoSuchKey where AWS says NoSuchUpload). */
export function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return name === 'NoSuchKey' || name === 'NoSuchUpload' || name === 'NotFound';
}

/** For a read whose object may not be there: undefined then, and any other failure thrown. */
export function absentIfNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
}
