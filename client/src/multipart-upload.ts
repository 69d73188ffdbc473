import type { components } from './api-types';
import { errorFromResponse, jsonBody, send } from './http-request';
import { newIdempotencyKey } from './idempotency-key';
import { type RetryOptions, withRetries } from './retry';
import type { UploadErrorCode } from './upload-error';
import type { UploadProgress } from './upload-options';

export type AssetRecord = components['schemas']['AssetRecord'];

export interface MultipartRequest extends RetryOptions {
  readonly baseUrl: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: UploadProgress) => void;
}

/**
 * A resend under the same key while the first attempt still runs gets 409 IDEMPOTENCY_CONFLICT; it
 * is the same upload, so waiting and asking again is right (the proxy then replays the record).
 */
const MULTIPART_RETRYABLE: ReadonlySet<UploadErrorCode> = new Set(['IDEMPOTENCY_CONFLICT']);

/**
 * POST /v1/asset, one file part named "file". Every attempt carries the same Idempotency-Key, so a
 * resend after a lost answer gets the first attempt's record instead of a second asset.
 */
export async function uploadMultipart(file: File, request: MultipartRequest): Promise<AssetRecord> {
  const key = newIdempotencyKey();
  return withRetries(() => attemptOnce(file, key, request), request, MULTIPART_RETRYABLE);
}

async function attemptOnce(file: File, key: string, request: MultipartRequest): Promise<AssetRecord> {
  const form = new FormData();
  form.append('file', file, file.name);
  const report = request.onProgress;
  const response = await send({
    method: 'POST',
    url: `${request.baseUrl}/v1/asset`,
    headers: { ...request.headers, 'Idempotency-Key': key },
    body: form,
    ...(request.signal ? { signal: request.signal } : {}),
    // The browser counts the whole form (boundaries, part headers); scale it to the file's bytes.
    ...(report ? { onUploadProgress: (loaded: number, total: number) => report({ loaded: total > 0 ? Math.round((loaded / total) * file.size) : 0, total: file.size, method: 'multipart' }) } : {}),
  });
  if (response.status !== 201 && response.status !== 200) throw errorFromResponse(response);
  return jsonBody<AssetRecord>(response);
}
