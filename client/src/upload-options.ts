import type { RetryOptions } from './retry';
import type { ResumeStore } from './resume-store';

export interface UploadProgress {
  /** Bytes of the file sent so far. */
  readonly loaded: number;
  /** The file's size. */
  readonly total: number;
  readonly method: 'multipart' | 'resumable';
}

export interface UploadOptions extends RetryOptions {
  /** The proxy's base URL, e.g. https://upload.example.com (no trailing path). */
  readonly baseUrl: string;
  /**
   * Files larger than this go resumable (tus, /v1/uploads); smaller ones in one multipart POST to
   * /v1/asset. Default 8 MiB: below it a dropped connection costs little to resend, above it the
   * chunks and the resume are worth their extra requests.
   */
  readonly resumableAboveBytes?: number;
  /** The size of each tus PATCH (default 8 MiB). */
  readonly chunkSize?: number;
  /** Check the file against GET /v1/limits before sending (default true). */
  readonly checkLimits?: boolean;
  /**
   * An upload token (UPLOAD_TOKEN_SECRET on the proxy), sent as Authorization: Bearer. A function is
   * called at the start of each upload, and again when the proxy refuses its token (401) partway
   * through a resumable upload: a token that expires during a long upload is renewed once and the
   * upload goes on from the server's offset. What the function throws reaches the caller as it is.
   */
  readonly token?: string | (() => string | Promise<string>);
  readonly onProgress?: (progress: UploadProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Where a resumable upload's URL is kept between attempts, so an upload interrupted by a closed tab
   * or a lost network resumes on the next `upload` of the same file. Default: localStorage when the
   * page has it; pass null to keep nothing.
   */
  readonly resumeStore?: ResumeStore | null;
}
