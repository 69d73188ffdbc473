import type { AssetRecord } from '../heygen/asset-record';
import type { AllowedMediaType } from './media-types';

/**
 * A file that passed every check and is ready to go to HeyGen. The core makes it; the route sends it
 * once the intake has read the whole request (so a late error can still stop it), and always
 * disposes of it.
 */
export interface PreparedUpload {
  readonly mediaType: AllowedMediaType;
  readonly size: number;
  send(): Promise<AssetRecord>;
  /** Frees what the upload holds (spool file, pending upstream request); idempotent. */
  dispose(): Promise<void>;
}
