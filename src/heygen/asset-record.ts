/** What an adapter learns from HeyGen about the asset it created. */
export interface UpstreamAsset {
  readonly id: string;
  readonly file_type: 'image' | 'video' | 'audio';
  readonly url: string;
  /** v1 only, for images; null where HeyGen does not say (never invented). */
  readonly image_key: string | null;
  /** v1 only; null where HeyGen does not say (never invented). */
  readonly created_ts: number | null;
}

/** What the proxy answers a successful upload with, whichever HeyGen API took it. */
export interface AssetRecord extends UpstreamAsset {
  /** The MIME type the proxy checked and forwarded. */
  readonly media_type: string;
  /** The file's exact size in bytes, as the proxy counted it. */
  readonly size_bytes: number;
}

/** HeyGen ids go into URLs and logs: letters, digits, "-" and "_" only. */
export const URL_SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A URL a browser may be handed: https, with a host (never javascript:, data: or a relative path). */
export function isSafeAssetUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '';
}
