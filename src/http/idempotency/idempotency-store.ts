/** The first successful answer to an upload, kept so that a retry with the same key gets it again. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  /** Hex SHA-256 of the file that was uploaded: a replay must send the same file. */
  readonly sha256?: string;
}

/**
 * What `reserve` found:
 * - `reserved`: nobody holds the key; this request now does, under `token`, until it completes or releases.
 * - `in-flight`: another request with the same key is still running.
 * - `completed`: an earlier request succeeded; replay its response.
 */
export type Reservation =
  | { readonly state: 'reserved'; readonly token: string }
  | { readonly state: 'in-flight' }
  | { readonly state: 'completed'; readonly response: StoredResponse };

/**
 * Idempotency records, per client: `clientKey` is whoever the rate limiter counts the request as
 * (the client address, or an upload token's subject), so one client's keys never collide with another's.
 * `token` proves ownership of an in-flight marker: a request whose marker expired and was taken over
 * must not complete or release the new holder's.
 */
export interface IdempotencyStore {
  reserve(clientKey: string, idempotencyKey: string): Promise<Reservation>;
  /** Replaces this request's in-flight marker with its response, kept for IDEMPOTENCY_COMPLETED_TTL_MS (upload/limits.ts). */
  complete(clientKey: string, idempotencyKey: string, token: string, response: StoredResponse): Promise<void>;
  /** Drops this request's in-flight marker, so the client may try again. */
  release(clientKey: string, idempotencyKey: string, token: string): Promise<void>;
  /** Extends this request's in-flight marker by IDEMPOTENCY_IN_FLIGHT_TTL_MS. */
  refresh(clientKey: string, idempotencyKey: string, token: string): Promise<void>;
}
