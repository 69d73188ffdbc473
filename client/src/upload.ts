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
 * with an UploadError: { code, message, status, requestId }; only what the caller's own token
 * function throws rejects as it was thrown.
 */
export async function upload(file: File, options: UploadOptions): Promise<AssetRecord> {
  const token = ownErrors(options.token);
  try {
    return await run(file, options, token.headers);
  } catch (error) {
    // The caller's own token function failed (its backend refused a token): its error, unchanged.
    if (isUploadError(error) || token.threw(error)) throw error;
    // A bug or a browser oddity still reaches the page in the one shape it handles.
    throw new UploadError('UNEXPECTED_RESPONSE', error instanceof Error ? error.message : String(error), 0);
  }
}

async function run(file: File, options: UploadOptions, authorization: () => Promise<Record<string, string>>): Promise<AssetRecord> {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const signal = options.signal;
  if (options.checkLimits ?? true) {
    const limits = await withRetries(() => fetchLimits(baseUrl, signal), options);
    const refusal = checkAgainstLimits(file, limits);
    if (refusal !== null) throw refusal;
  }
  const headers = await authorization();
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
    // Only a token function can give a new token; a fixed one is sent as it is to the end.
    const renewHeaders = typeof options.token === 'function' ? { renewHeaders: authorization } : {};
    return uploadResumable(file, { ...common, ...renewHeaders, chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE, resumeStore });
  }
  return uploadMultipart(file, common);
}

/** The Authorization header of `token`, and whether an error came from the caller's token function. */
function ownErrors(token: UploadOptions['token']): { headers: () => Promise<Record<string, string>>; threw: (error: unknown) => boolean } {
  const thrown = new Set<unknown>();
  return {
    async headers(): Promise<Record<string, string>> {
      if (token === undefined) return {};
      let value: string;
      try {
        value = typeof token === 'function' ? await token() : token;
      } catch (error) {
        thrown.add(error);
        throw error;
      }
      return { Authorization: `Bearer ${value}` };
    },
    threw: (error) => thrown.has(error),
  };
}
