/** The form may carry a few small text fields beside the file; they are read and ignored. */
export const FORM_LIMITS = {
  files: 1,
  fields: 8,
  parts: 9,
  fieldNameSize: 100,
  fieldSize: 1024,
  headerPairs: 16,
} as const;

/** The file chunks multer hands on. */
export const FILE_CHUNK_BYTES = 256 * 1024;

/** busboy's cap on one part's header block. */
const MAX_PART_HEADER_BYTES = 16 * 1024;

/**
 * The most a legal form can carry besides the file's bytes, under FORM_LIMITS: every part's headers
 * at busboy's cap, every field at its cap, and boundaries. A Content-Length above the largest type
 * limit plus this cannot hold a legal upload, so it is refused before a byte is read.
 */
export const MULTIPART_OVERHEAD_ALLOWANCE =
  FORM_LIMITS.parts * (MAX_PART_HEADER_BYTES + 256) + FORM_LIMITS.fields * FORM_LIMITS.fieldSize;

/**
 * The most a form may carry outside its file part (preamble, text fields, part headers, boundaries,
 * epilogue) before it is refused: whatever a legal form carries besides the file, plus slack, since
 * bytes are counted a socket read at a time and a read may straddle the file part's edges. Without
 * it, a chunked body with no file part (a field value or preamble that never ends) would be read to
 * its end before its 400.
 */
export const OUTSIDE_FILE_BYTES_BUDGET = MULTIPART_OVERHEAD_ALLOWANCE + 256 * 1024;
