import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';
import { structureWalkerFor } from '../../src/upload/structure';
import { type SizedMediaType, sizedMedia, sizedMediaChunks, sizedMediaMinimum, writeSizedMedia } from '../support/sized-media';

const TYPES: SizedMediaType[] = ['image/png', 'image/jpeg', 'video/mp4', 'video/webm', 'audio/mpeg'];
const MIB = 1024 * 1024;

function walk(type: SizedMediaType, size: number): { length: number; reason: string | undefined } {
  const walker = structureWalkerFor(type);
  let length = 0;
  for (const piece of sizedMediaChunks(type, size)) {
    length += piece.length;
    const reason = walker.push(piece);
    if (reason !== undefined) return { length, reason };
  }
  return { length, reason: walker.end() };
}

describe('sizedMedia', () => {
  describe.each(TYPES)('%s', (type) => {
    const minimum = sizedMediaMinimum(type);
    const sizes = [minimum, minimum + 12, minimum + 129, minimum + 1000, minimum + 70_001, 2 * MIB + 3, 5 * MIB + 1];

    it.each(sizes)('is exactly %i bytes, structurally valid, and detected as its type', async (size) => {
      const bytes = sizedMedia(type, size);
      expect(bytes.length).toBe(size);
      const walker = structureWalkerFor(type);
      expect(walker.push(bytes) ?? walker.end()).toBeUndefined();
      expect((await fileTypeFromBuffer(bytes.subarray(0, 4100)))?.mime).toBe(type);
    });

    it('streams a 64 MiB file in pieces of at most 1 MiB + a frame', () => {
      let largest = 0;
      for (const piece of sizedMediaChunks(type, 64 * MIB)) largest = Math.max(largest, piece.length);
      expect(largest).toBeLessThanOrEqual(MIB + 1045);
      expect(walk(type, 64 * MIB + 7)).toEqual({ length: 64 * MIB + 7, reason: undefined });
    });

    it('refuses a size below the sample', () => {
      expect(() => sizedMedia(type, minimum - 1)).toThrow(/the size must be/);
    });
  });

  it('writes a file with writeSizedMedia', () => {
    const path = join(tmpdir(), `sized-media-${process.pid}.mp4`);
    try {
      writeSizedMedia(path, 'video/mp4', 3 * MIB);
      const bytes = readFileSync(path);
      expect(bytes.length).toBe(3 * MIB);
      const walker = structureWalkerFor('video/mp4');
      expect(walker.push(bytes) ?? walker.end()).toBeUndefined();
    } finally {
      rmSync(path, { force: true });
    }
  });
});
