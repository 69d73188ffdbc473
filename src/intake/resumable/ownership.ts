import { createHash } from 'node:crypto';
import type { Upload } from '@tus/utils';

/** The Upload-Metadata key that binds an upload to its creator's token subject (a hash of it). */
const OWNER_KEY = 'hup_owner';

type Metadata = NonNullable<Upload['metadata']>;

function ownerTag(subject: string): string {
  return createHash('sha256').update(`heygen-upload-proxy:${subject}`).digest('hex').slice(0, 32);
}

/** The metadata to store: the client's own, less any owner it tried to name, plus its subject's tag when tokens are on. */
export function withOwner(metadata: Upload['metadata'], subject: string | undefined): Metadata {
  const own = Object.fromEntries(Object.entries(metadata ?? {}).filter(([key]) => key !== OWNER_KEY));
  return subject === undefined ? own : { ...own, [OWNER_KEY]: ownerTag(subject) };
}

export function ownerOf(metadata: Upload['metadata']): string | undefined {
  return metadata?.[OWNER_KEY] ?? undefined;
}

/** Without an owner (tokens were off when it was created) anyone who has the URL may; else only its subject. */
export function mayAccess(owner: string | undefined, subject: string | undefined): boolean {
  if (owner === undefined) return true;
  return subject !== undefined && ownerTag(subject) === owner;
}
