/**
 * HeyGen's success envelope, as the sink returns it. The project validates this shape with zod, so
 * it must match what HeyGen really sends (HeyGen v1 Upload Asset reference), not a simplified stand-in.
 */
export function heygenSuccessBody(id: string, contentType: string): string {
  const isImage = contentType.startsWith('image/');
  const fileType = isImage ? 'image' : contentType.startsWith('audio/') ? 'audio' : 'video';
  return JSON.stringify({
    code: 100,
    data: {
      id,
      name: id,
      file_type: fileType,
      folder_id: '',
      meta: null,
      created_ts: 1700000000,
      url: `https://resource2.heygen.ai/${fileType}/${id}/original`,
      image_key: isImage ? `image/${id}/original` : null,
    },
    msg: null,
    message: null,
  });
}

/**
 * The asset HeyGen v3 answers for `POST /v3/assets` and `POST /v3/assets/{id}/complete` (the
 * project keeps asset_id and url, and checks that the url is https).
 */
export function heygenV3AssetBody(id: string, mimeType: string, sizeBytes: number): string {
  const kind = mimeType.startsWith('image/') ? 'image' : mimeType.startsWith('audio/') ? 'audio' : 'video';
  return JSON.stringify({
    data: { asset_id: id, url: `https://resource2.heygen.ai/${kind}/${id}/original`, mime_type: mimeType, size_bytes: sizeBytes, status: 'processing' },
  });
}
