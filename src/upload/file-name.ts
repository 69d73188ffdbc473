import type { AllowedMediaType } from './media-types';

const EXTENSIONS: Readonly<Record<AllowedMediaType, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
};

/** Long enough for any real name, short enough for any header or record. */
const MAX_NAME_LENGTH = 120;

/**
 * The file name HeyGen is given: the client's own (it becomes the asset's name there), without any
 * directory part, control characters, quotes or backslashes, cut to a sane length; or `upload.<ext>`
 * when nothing usable is left. It travels in a multipart header and a JSON body, never into a path.
 */
export function safeFileName(declared: string | undefined, mediaType: AllowedMediaType): string {
  const base = (declared ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"'`<>|*?:;]/g, '').replace(/\s+/g, ' ').trim();
  const name = cleaned.replace(/^\.+/, '').slice(0, MAX_NAME_LENGTH).trim();
  return name === '' ? `upload.${EXTENSIONS[mediaType]}` : name;
}
