/** The first successful answer to an upload, kept so that a retry with the same key gets it again. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
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

/** How long a successful answer is replayed (the client's retry window). */
export const COMPLETED_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * How long an in-flight marker lives without being refreshed. Short, so that a replica that crashed
 * mid-upload locks the key for minutes, not a day; the request holding it refreshes it while it runs,
 * so a long upload keeps it.
 */
export const IN_FLIGHT_TTL_MS = 5 * 60 * 1000;

/**
 * Idempotency records, per client: `clientKey` is whoever the rate limiter counts the request as
 * (the client address, or an upload token's subject), so one client's keys never collide with another's.
 * `token` proves ownership of an in-flight marker: a request whose marker expired and was taken over
 * must not complete or release the new holder's.
 */
export interface IdempotencyStore {
  reserve(clientKey: string, idempotencyKey: string): Promise<Reservation>;
  /** Replaces this request's in-flight marker with its response, kept for COMPLETED_TTL_MS. */
  complete(clientKey: string, idempotencyKey: string, token: string, response: StoredResponse): Promise<void>;
  /** Drops this request's in-flight marker, so the client may try again. */
  release(clientKey: string, idempotencyKey: string, token: string): Promise<void>;
  /** Extends this request's in-flight marker by IN_FLIGHT_TTL_MS. */
  refresh(clientKey: string, idempotencyKey: string, token: string): Promise<void>;
}
