import { type MediaKind, MIB } from '../config';

/**
 * Every fixed number that bounds an upload, in one place. Those an operator may change are
 * environment variables (config.ts: per-type sizes, rate limit, concurrency, timeouts, shutdown
 * grace); those below are fixed by design. HeyGen's own protocol numbers (response size cap, the v3
 * multipart cap, retry backoffs) stay with the adapters in heygen/, which sit below this room.
 */

export const KIB = 1024;

/** The largest file of each kind (MAX_IMAGE_BYTES, MAX_VIDEO_BYTES, MAX_AUDIO_BYTES). */
export type MediaLimits = Readonly<Record<MediaKind, number>>;

// ---- the file ----------------------------------------------------------------------------------

/** How many leading bytes type detection reads (file-type's own figure for its detectors). */
export const DETECTION_BYTES = 4100;

/** Files up to this size are spooled in memory; larger ones go to a temp file (nginx's client_body_buffer_size). */
export const SPOOL_MEMORY_BYTES = 1 * MIB;

/** Buffers on the way through: the spool's and the streaming upstream body's, and the file chunks multer hands on. */
export const SPOOL_BUFFER_BYTES = 256 * KIB;
export const UPSTREAM_BUFFER_BYTES = 256 * KIB;
export const FILE_CHUNK_BYTES = 256 * KIB;

export function largestFileBytes(limits: MediaLimits): number {
  return Math.max(...Object.values(limits));
}

// ---- the multipart form ------------------------------------------------------------------------

/** The form may carry a few small text fields beside the file; they are read and ignored. */
export const FORM_LIMITS = {
  files: 1,
  fields: 8,
  parts: 9,
  fieldNameSize: 100,
  fieldSize: 1024,
  headerPairs: 16,
} as const;

/** busboy's cap on one part's header block. */
export const MAX_PART_HEADER_BYTES = 16 * KIB;

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
 * it a chunked body with no file part (a field value or preamble that never ends) was read to its end
 * before its 400.
 */
export const OUTSIDE_FILE_BYTES_BUDGET = MULTIPART_OVERHEAD_ALLOWANCE + 256 * KIB;

// ---- the edge ----------------------------------------------------------------------------------

/** After an early answer, how much of the unread body is read and dropped, and for how long. */
export const EARLY_ANSWER_DRAIN_BYTES = 16 * MIB;
export const EARLY_ANSWER_DRAIN_MS = 5_000;

/** Seconds a client refused by a full gate should wait: uploads finish in seconds, not minutes. */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** Seconds a client at its cap of uploads in progress should wait: one of its own uploads must finish first. */
export const CLIENT_UPLOADS_RETRY_AFTER_SECONDS = 5;

/**
 * Upload tokens authorise one page's uploads: they live minutes (the default a minted token gets),
 * never more than an hour from `iat` to `exp`.
 */
export const MAX_UPLOAD_TOKEN_TTL_SECONDS = 60 * 60;
export const DEFAULT_UPLOAD_TOKEN_TTL_SECONDS = 5 * 60;

/**
 * How far ahead of this replica's clock a token's `iat` may be: the minting backend's clock may run a
 * little fast (NTP keeps hosts within milliseconds; 30 s absorbs a badly kept one), but no further,
 * or a token could be minted today to start its hour next year.
 */
export const UPLOAD_TOKEN_CLOCK_SKEW_SECONDS = 30;

/**
 * Node enforces HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS only when it sweeps its connections, every
 * 30 s by default, so a 15 s header timeout fired at about 30 s. Sweeping this many times per the
 * shorter timeout makes each fire within a tenth of its value late; the sweep walks a list kept in
 * C++, so even every second or so it costs next to nothing. Never more often than the floor.
 */
export const TIMEOUT_SWEEPS_PER_PERIOD = 10;
export const MIN_TIMEOUT_SWEEP_MS = 10;

/** Above common load balancer idle timeouts (ingress-nginx keeps upstream connections for 60 s). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

// ---- words -------------------------------------------------------------------------------------

/** "32 MiB" for whole mebibytes, else the exact byte count. */
export function describeBytes(bytes: number): string {
  const mib = bytes / MIB;
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/** The refusal's words for a file over its kind's limit. */
export function tooLargeMessage(kind: MediaKind, maxBytes: number): string {
  return `${kind.charAt(0).toUpperCase()}${kind.slice(1)} files may be at most ${describeBytes(maxBytes)}.`;
}
