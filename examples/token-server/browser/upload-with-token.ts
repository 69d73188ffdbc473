import { type AssetRecord, upload, type UploadOptions } from '../../../client/src/index';

/** Your backend's refusal to mint a token (not signed in, session ended): nothing was sent to the proxy. */
export class TokenRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'TokenRefused';
    this.status = status;
  }
}

/**
 * Asks your backend for an upload token: POST /upload-token on the page's own origin, with the
 * session cookie. A refusal rejects with TokenRefused and your backend's words.
 */
export async function fetchUploadToken(tokenUrl = '/upload-token'): Promise<string> {
  const response = await fetch(tokenUrl, { method: 'POST', credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({}))) as { token?: unknown; error?: unknown };
  if (!response.ok || typeof body.token !== 'string') {
    throw new TokenRefused(response.status, typeof body.error === 'string' ? body.error : `The token request failed (HTTP ${response.status}).`);
  }
  return body.token;
}

/**
 * One upload with a fresh token: fetched first, so a signed-out user hears it before any byte is
 * sent, then handed to the client, which sends it as `Authorization: Bearer` on every request of
 * the upload, and asks for a new one when the proxy refuses it partway through a long resumable
 * upload (the token expired). The proxy's refusals (401 UNAUTHORIZED for a forged or expired token,
 * 413, ...) reject as the client's UploadError; your backend's, as TokenRefused.
 */
export async function uploadWithToken(file: File, options: Omit<UploadOptions, 'token'> & { readonly tokenUrl?: string }): Promise<AssetRecord> {
  const { tokenUrl, ...uploadOptions } = options;
  let first: string | undefined = await fetchUploadToken(tokenUrl);
  const token = async (): Promise<string> => {
    const fresh = first ?? (await fetchUploadToken(tokenUrl));
    first = undefined;
    return fresh;
  };
  return upload(file, { ...uploadOptions, token });
}
