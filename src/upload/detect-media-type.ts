import type { fileTypeFromBuffer } from 'file-type' with { 'resolution-mode': 'import' };

/**
 * Magic-byte detection with file-type. It is ESM-only; Node >= 20.19 loads it from CommonJS, and
 * jest loads it through the dynamic import below (with --experimental-vm-modules). file-type was
 * chosen over magic-bytes.js because it reads the EBML DocType, so a Matroska file is not taken for
 * WebM, and it checks MPEG frame headers for MP3 files that carry no ID3 tag.
 */
interface FileTypeModule {
  readonly fileTypeFromBuffer: typeof fileTypeFromBuffer;
}

let fileTypeModule: Promise<FileTypeModule> | undefined;

function loadFileType(): Promise<FileTypeModule> {
  fileTypeModule ??= import('file-type');
  return fileTypeModule;
}

/** How many leading bytes detection needs (file-type's own figure for its detectors). */
export const DETECTION_BYTES = 4100;

/** The MIME type the leading bytes show, or undefined when they match no known format. */
export async function detectMediaType(head: Uint8Array): Promise<string | undefined> {
  const { fileTypeFromBuffer } = await loadFileType();
  const result = await fileTypeFromBuffer(head);
  return result?.mime;
}

/** Loads the detector ahead of the first upload, so start-up and not a request pays for it. */
export async function preloadMediaTypeDetection(): Promise<void> {
  await loadFileType();
}
