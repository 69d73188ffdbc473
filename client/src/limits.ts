import type { components } from './api-types';
import { errorFromResponse, jsonBody, send } from './http-request';
import { UploadError } from './upload-error';

export type Limits = components['schemas']['Limits'];

/** GET /v1/limits; a refusal or a network failure rejects as UploadError. */
export async function fetchLimits(baseUrl: string, signal?: AbortSignal): Promise<Limits> {
  const response = await send({ method: 'GET', url: `${baseUrl}/v1/limits`, ...(signal ? { signal } : {}) });
  if (response.status !== 200) throw errorFromResponse(response);
  return jsonBody<Limits>(response);
}

/** "32 MiB" for whole mebibytes, else the exact byte count: the proxy's own wording. */
function describeBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${bytes} bytes`;
}

/**
 * The proxy's size check, made before any byte is sent, with its code, status and message: a listed
 * type against its kind's limit, any other type against the largest limit (the proxy decides such a
 * file's kind from its bytes, and accepts aliases such as image/jpg that /v1/limits does not list,
 * so the type itself is left to the proxy). Null when the proxy would let the file start.
 */
export function checkAgainstLimits(file: File, limits: Limits): UploadError | null {
  if (file.size === 0) return new UploadError('EMPTY_FILE', 'The file is empty.', 400);
  const listed = limits.types.find((type) => type.media_type === file.type);
  if (listed !== undefined) {
    if (file.size <= listed.max_bytes) return null;
    const kind = `${listed.kind.charAt(0).toUpperCase()}${listed.kind.slice(1)}`;
    return new UploadError('FILE_TOO_LARGE', `${kind} files may be at most ${describeBytes(listed.max_bytes)}.`, 413);
  }
  const largest = Math.max(...Object.values(limits.max_bytes));
  if (file.size <= largest) return null;
  return new UploadError('FILE_TOO_LARGE', `Files may be at most ${describeBytes(largest)}.`, 413);
}
