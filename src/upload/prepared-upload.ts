import type { AssetRecord } from '../heygen/asset-response';
import type { AllowedMediaType } from './media-types';

/**
 * A file that passed every check and is ready to go to HeyGen. The storage engine makes it; the route
 * sends it once multer has parsed the whole form (so a late form error can still stop it), and always
 * disposes of it.
 */
export interface PreparedUpload {
  readonly mediaType: AllowedMediaType;
  readonly size: number;
  send(): Promise<AssetRecord>;
  /** Frees what the upload holds (spool file, pending upstream request); idempotent. */
  dispose(): Promise<void>;
}
