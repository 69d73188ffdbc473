import type { MediaKind } from '../config';
import type { AllowedMediaType } from './media-types';

/** What HeyGen is told of a checked file besides its bytes. */
export interface OutgoingFile {
  readonly mediaType: AllowedMediaType;
  readonly mediaKind: MediaKind;
  readonly filename: string;
  /** HeyGen's Idempotency-Key for this upload, from the file's SHA-256 when it is known before sending. */
  readonly upstreamKey: (fileSha256: string | undefined) => string;
}
