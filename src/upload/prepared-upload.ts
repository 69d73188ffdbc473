import type { AssetRecord, UpstreamAsset } from '../heygen/asset-record';
import type { AllowedMediaType } from './media-types';

/**
 * A file that passed every check and is ready to go to HeyGen. The core makes it; the route sends it
 * once the intake has read the whole request (so a late error can still stop it), and always
 * disposes of it.
 */
export interface PreparedUpload {
  readonly mediaType: AllowedMediaType;
  readonly size: number;
  /** Hex SHA-256 of the file, when the upload asked for it (or needed it for a direct upload). */
  readonly sha256: string | undefined;
  send(): Promise<AssetRecord>;
  /** Frees what the upload holds (spool file, pending upstream request); idempotent. */
  dispose(): Promise<void>;
}

/** The client's record: what HeyGen said of the asset, plus what the proxy itself checked and counted. */
export function toAssetRecord(asset: UpstreamAsset, mediaType: AllowedMediaType, size: number): AssetRecord {
  return { ...asset, media_type: mediaType, size_bytes: size };
}
