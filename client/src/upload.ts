import { checkAgainstLimits, fetchLimits } from './limits';
import { type AssetRecord, uploadMultipart } from './multipart-upload';
import { uploadResumable } from './resumable-upload';
import { browserResumeStore } from './resume-store';
import { withRetries } from './retry';
import { isUploadError, UploadError } from './upload-error';
import type { UploadOptions } from './upload-options';

const MIB = 1024 * 1024;
export const DEFAULT_RESUMABLE_ABOVE_BYTES = 8 * MIB;
export const DEFAULT_CHUNK_SIZE = 8 * MIB;

/**
 * Uploads one file through the proxy and resolves with HeyGen's asset record. Every failure rejects
 * with an UploadError: { code, message, status, requestId }.
 */
export async function upload(file: File, options: UploadOptions): Promise<AssetRecord> {
  try {
    return await run(file, options);
  } catch (error) {
    if (isUploadError(error)) throw error;
    // A bug or a browser oddity still reaches the page in the one shape it handles.
    throw new UploadError('UNEXPECTED_RESPONSE', error instanceof Error ? error.message : String(error), 0);
  }
}

async function run(file: File, options: UploadOptions): Promise<AssetRecord> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const signal = options.signal;
  if (options.checkLimits ?? true) {
    const limits = await withRetries(() => fetchLimits(baseUrl, signal), options);
    const refusal = checkAgainstLimits(file, limits);
    if (refusal !== null) throw refusal;
  }
  const headers = await authorization(options.token);
  const common = {
    baseUrl,
    headers,
    ...(signal ? { signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.retryDelaysMs ? { retryDelaysMs: options.retryDelaysMs } : {}),
    ...(options.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: options.maxRetryAfterMs } : {}),
    ...(options.onRetry ? { onRetry: options.onRetry } : {}),
  };
  if (file.size > (options.resumableAboveBytes ?? DEFAULT_RESUMABLE_ABOVE_BYTES)) {
    const resumeStore = options.resumeStore === undefined ? browserResumeStore() : options.resumeStore;
    return uploadResumable(file, { ...common, chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, resumeStore });
  }
  return uploadMultipart(file, common);
}

async function authorization(token: UploadOptions['token']): Promise<Record<string, string>> {
  if (token === undefined) return {};
  const value = typeof token === 'function' ? await token() : token;
  return { Authorization: `Bearer ${value}` };
}
