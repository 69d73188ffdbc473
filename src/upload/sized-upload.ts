import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { OutgoingFile } from './outgoing-file';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';

/** A checked file's exact size, known before its first byte goes out, and its checksum when it was hashed on the way in. */
export interface MeasuredFile {
  readonly size: number;
  readonly sha256: string | undefined;
}

/**
 * A checked file whose bytes can be read again for every send attempt (a spool, a stored resumable
 * upload): sent as a SizedUpload, with its exact size, its checksum (hashed on the way in, or read
 * once more from the file only when an adapter needs it), and HeyGen's key for that checksum.
 */
export function preparedSizedUpload(
  outgoing: OutgoingFile,
  measured: MeasuredFile,
  open: () => Buffer | Readable,
  upstream: Upstream,
  dispose: () => Promise<void>,
): PreparedUpload {
  const { mediaType, mediaKind, filename } = outgoing;
  const { size, sha256 } = measured;
  const idempotencyKey = outgoing.upstreamKey(sha256);
  let checksum: Promise<string> | undefined;
  const checksumOnce = (): Promise<string> => (checksum ??= sha256 === undefined ? sha256Of(open()) : Promise.resolve(sha256));
  return {
    mediaType,
    size,
    sha256,
    send: async () => {
      const asset = await upstream.send({ delivery: 'sized', mediaType, mediaKind, filename, idempotencyKey, size, checksum: checksumOnce, open });
      return toAssetRecord(asset, mediaType, size);
    },
    dispose,
  };
}

async function sha256Of(body: Buffer | Readable): Promise<string> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(body)) return hash.update(body).digest('hex');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
