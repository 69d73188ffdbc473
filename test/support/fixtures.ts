import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SizedMediaType, sizedMedia } from './sized-media';

/** Real media files of each allowed type, kept in the repository (test/fixtures). */
export const FIXTURES_DIR = join(__dirname, '..', 'fixtures');

export interface Fixture {
  readonly name: string;
  readonly mediaType: string;
  readonly kind: 'image' | 'video' | 'audio';
  readonly bytes: Buffer;
}

function load(name: string, mediaType: string, kind: Fixture['kind']): Fixture {
  return { name, mediaType, kind, bytes: readFileSync(join(FIXTURES_DIR, name)) };
}

export const FIXTURES: readonly Fixture[] = [
  load('sample.png', 'image/png', 'image'),
  load('sample.jpg', 'image/jpeg', 'image'),
  load('sample.mp4', 'video/mp4', 'video'),
  load('sample.webm', 'video/webm', 'video'),
  load('sample.mp3', 'audio/mpeg', 'audio'),
];

export function fixture(name: string): Fixture {
  const found = FIXTURES.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no fixture ${name}`);
  return found;
}

/**
 * A well-formed file of the fixture's type and exactly `size` bytes (the fixture's structure with
 * filler inside it, sized-media.ts), so it passes the proxy's structure checks like a real file.
 */
export function paddedFile(base: Fixture, size: number): Buffer {
  return sizedMedia(base.mediaType as SizedMediaType, size);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
