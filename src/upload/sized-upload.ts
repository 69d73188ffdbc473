import type { Readable } from 'node:stream';
import type { Upstream } from '../heygen/upstream';
import type { OutgoingFile } from './outgoing-file';
import { type PreparedUpload, toAssetRecord } from './prepared-upload';

/** A checked file's exact size and checksum, known before its first byte goes out. */
export interface MeasuredFile {
  readonly size: number;
  readonly sha256: string;
}

/**
 * A checked file whose bytes can be read again for every send attempt (a spool, a stored resumable
 * upload): sent as a SizedUpload, with its exact size, its checksum, and HeyGen's key for that checksum.
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
  return {
    mediaType,
    size,
    sha256,
    send: async () => {
      const asset = await upstream.send({ delivery: 'sized', mediaType, mediaKind, filename, idempotencyKey, size, sha256, open });
      return toAssetRecord(asset, mediaType, size);
    },
    dispose,
  };
}
