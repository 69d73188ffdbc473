import { fileTypeFromBuffer } from 'file-type';

/** How many leading bytes type detection reads (file-type's own figure for its detectors). */
export const DETECTION_BYTES = 4100;

/**
 * Magic-byte detection with file-type, chosen over magic-bytes.js because it reads the EBML DocType
 * (a Matroska file is not taken for WebM) and checks MPEG frame headers for MP3 files that carry no
 * ID3 tag. It is ESM-only (v21; v22 needs Node 22): Node >= 20.19 loads it through require(), which
 * TypeScript's `module: node20` emits here. jest.config.js explains how tests load it.
 */

/** The MIME type the leading bytes show, or undefined when they match no known format. */
export async function detectMediaType(head: Uint8Array): Promise<string | undefined> {
  const result = await fileTypeFromBuffer(head);
  return result?.mime;
}
