/**
 * Structure walkers: for each of the five accepted types, a state machine that follows the file's
 * container structure as its bytes stream through, so that a file which merely starts like a PNG,
 * JPEG, MP4, WebM or MP3 (a polyglot: a real header, then an executable or HTML) is refused.
 *
 * Use: `const walker = structureWalkerFor(type)`, then `walker.push(chunk)` for every chunk in order
 * and `walker.end()` when the file ends; the first non-undefined result is the reason to refuse the
 * file (415 CONTENT_MISMATCH). A walker never keeps or copies a chunk: it passes over payloads by
 * arithmetic and keeps at most a few header bytes between chunks, so any chunking gives the same
 * answer. Each format's file says exactly what it checks and what it deliberately allows.
 *
 * Pure TypeScript and node builtins: nothing here knows about HTTP, Express or multer.
 */
import type { AllowedMediaType } from '../media-types';
import { JpegWalker } from './jpeg';
import { Mp3Walker } from './mp3';
import { Mp4Walker } from './mp4';
import { PngWalker } from './png';
import type { StructureWalker } from './walker';
import { WebmWalker } from './webm';

export type { StructureWalker } from './walker';

export function structureWalkerFor(mediaType: AllowedMediaType): StructureWalker {
  switch (mediaType) {
    case 'image/png':
      return new PngWalker();
    case 'image/jpeg':
      return new JpegWalker();
    case 'video/mp4':
      return new Mp4Walker();
    case 'video/webm':
      return new WebmWalker();
    case 'audio/mpeg':
      return new Mp3Walker();
  }
}
