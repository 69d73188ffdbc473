import { cancelledError, networkError, UploadError } from './upload-error';

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: XMLHttpRequestBodyInit | null;
  readonly signal?: AbortSignal;
  /** Bytes of the body sent so far, as the browser reports them. */
  readonly onUploadProgress?: (loaded: number, total: number) => void;
}

export interface HttpResponse {
  readonly status: number;
  readonly text: string;
  header(name: string): string | null;
}

/**
 * One request over XMLHttpRequest: fetch cannot report upload progress. Resolves with any answer
 * the page may read, whatever its status; rejects only with NETWORK_ERROR (no readable answer) or
 * CANCELLED (the signal fired).
 */
export function send(request: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    if (request.signal?.aborted) {
      reject(cancelledError());
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(request.method, request.url);
    xhr.responseType = 'text';
    for (const [name, value] of Object.entries(request.headers ?? {})) xhr.setRequestHeader(name, value);
    const onAbort = (): void => xhr.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const settle = (): void => request.signal?.removeEventListener('abort', onAbort);
    if (request.onUploadProgress) {
      const report = request.onUploadProgress;
      xhr.upload.addEventListener('progress', (event) => {
        if (event.lengthComputable) report(event.loaded, event.total);
      });
    }
    xhr.addEventListener('load', () => {
      settle();
      resolve({ status: xhr.status, text: xhr.responseText, header: (name) => xhr.getResponseHeader(name) });
    });
    xhr.addEventListener('error', () => {
      settle();
      reject(networkError(request.url));
    });
    xhr.addEventListener('timeout', () => {
      settle();
      reject(networkError(request.url));
    });
    xhr.addEventListener('abort', () => {
      settle();
      reject(cancelledError());
    });
    xhr.send(request.body ?? null);
  });
}

interface ProxyErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly request_id?: string };
}

function isProxyErrorBody(value: unknown): value is ProxyErrorBody {
  if (typeof value !== 'object' || value === null || !('error' in value)) return false;
  const error = value.error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string' && typeof (error as { message?: unknown }).message === 'string';
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function retryAfterSeconds(response: HttpResponse): number | null {
  const value = response.header('Retry-After');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, (date - Date.now()) / 1000);
}

/** The proxy's `{"error": {...}}` answer as an UploadError; an answer in any other shape keeps its status. */
export function errorFromResponse(response: HttpResponse): UploadError {
  let body: unknown = null;
  try {
    body = JSON.parse(response.text);
  } catch {
    body = null;
  }
  const requestId = response.header('X-Request-Id');
  const retryAfter = retryAfterSeconds(response);
  if (isProxyErrorBody(body)) {
    // The proxy's codes are the catalogue's; trusting the string keeps a newer proxy's codes visible.
    const code = body.error.code as UploadError['code'];
    return new UploadError(code, body.error.message, response.status, body.error.request_id ?? requestId, retryAfter);
  }
  return new UploadError('UNEXPECTED_RESPONSE', `The upload service answered HTTP ${response.status} without an error the client can read.`, response.status, requestId, retryAfter);
}

/** The JSON body of a success answer, or UNEXPECTED_RESPONSE. */
export function jsonBody<T>(response: HttpResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new UploadError('UNEXPECTED_RESPONSE', `The upload service answered HTTP ${response.status} with a body that is not JSON.`, response.status, response.header('X-Request-Id'));
  }
}
