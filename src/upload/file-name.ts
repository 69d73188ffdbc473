import type { AllowedMediaType } from './media-types';

const EXTENSIONS: Readonly<Record<AllowedMediaType, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
};

/**
 * Long enough for any real name, short enough for any header or record. Counted in code points, so
 * the cut never splits a character outside the Basic Multilingual Plane (an emoji) into a lone
 * surrogate, which has no UTF-8 form and makes encodeURIComponent throw.
 */
export const MAX_NAME_CODE_POINTS = 120;

/**
 * The file name HeyGen is given: the client's own (it becomes the asset's name there), without any
 * directory part, control characters, quotes or backslashes, cut to a sane length; or `upload.<ext>`
 * when nothing usable is left. It travels in a multipart header and a JSON body, never into a path.
 * The result is always well-formed UTF-16: a lone surrogate the client sent becomes U+FFFD, as a
 * UTF-8 encoder would write it.
 */
export function safeFileName(declared: string | undefined, mediaType: AllowedMediaType): string {
  const base = (declared ?? '').toWellFormed().split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = base.replace(/[\u0000-\u001f\u007f"'`<>|*?:;]/g, '').replace(/\s+/g, ' ').trim();
  // Spreading a string iterates it by code points, so a surrogate pair stays whole.
  const name = [...cleaned.replace(/^\.+/, '')].slice(0, MAX_NAME_CODE_POINTS).join('').trim();
  return name === '' ? `upload.${EXTENSIONS[mediaType]}` : name;
}
