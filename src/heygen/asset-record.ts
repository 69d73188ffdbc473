/** What the proxy answers a successful upload with, whichever HeyGen API took it. */
export interface AssetRecord {
  readonly id: string;
  readonly file_type: 'image' | 'video' | 'audio';
  readonly url: string;
  readonly image_key: string | null;
  readonly created_ts: number;
}
