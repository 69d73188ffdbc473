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
