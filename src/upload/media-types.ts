import type { MediaKind } from '../config';

/** The largest file of each kind (MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, MAX_AUDIO_BYTES). */
export type MediaLimits = Readonly<Record<MediaKind, number>>;

export function largestFileBytes(limits: MediaLimits): number {
  return Math.max(...Object.values(limits));
}

/**
 * The five types HeyGen's Upload Asset endpoint takes, and the kind each belongs to (docs/api.md,
 * "Which files are accepted").
 */
export const ALLOWED_MEDIA_TYPES = {
  'image/png': 'image',
  'image/jpeg': 'image',
  'video/mp4': 'video',
  'video/webm': 'video',
  'audio/mpeg': 'audio',
} as const satisfies Record<string, MediaKind>;

export type AllowedMediaType = keyof typeof ALLOWED_MEDIA_TYPES;

export function isAllowedMediaType(type: string): type is AllowedMediaType {
  return Object.hasOwn(ALLOWED_MEDIA_TYPES, type);
}

export function kindOf(type: AllowedMediaType): MediaKind {
  return ALLOWED_MEDIA_TYPES[type];
}

/**
 * Names that browsers and tools use for the same formats. They are accepted as declarations and
 * forwarded under the canonical name HeyGen documents.
 */
const DECLARED_ALIASES: Readonly<Record<string, AllowedMediaType>> = {
  'image/jpg': 'image/jpeg',
  'image/pjpeg': 'image/jpeg',
  'audio/mp3': 'audio/mpeg',
  'audio/mpeg3': 'audio/mpeg',
  'audio/x-mpeg-3': 'audio/mpeg',
};

/** Declarations that say "I don't know": the bytes decide. */
const GENERIC_DECLARATIONS = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

/** The declared part type, lower-cased, without parameters, with aliases folded; undefined if generic. */
export function normaliseDeclaredType(declared: string | undefined): string | undefined {
  const bare = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (GENERIC_DECLARATIONS.has(bare)) return undefined;
  return DECLARED_ALIASES[bare] ?? bare;
}
