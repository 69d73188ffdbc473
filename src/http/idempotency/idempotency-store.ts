import type { HeldLease } from '../../state/lease';

/** How long a successful answer is replayed for a repeated Idempotency-Key (the client's retry window). */
export const IDEMPOTENCY_COMPLETED_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * An in-flight marker is a lease that lives this long without a refresh, and its request refreshes it
 * every IDEMPOTENCY_IN_FLIGHT_REFRESH_MS while it runs, so a long upload keeps it however long it
 * takes, while a replica that died mid-upload holds its clients' keys for seconds, not minutes.
 */
export const IDEMPOTENCY_IN_FLIGHT_TTL_MS = 15_000;
export const IDEMPOTENCY_IN_FLIGHT_REFRESH_MS = 5_000;

/** The first successful answer to an upload, kept so that a retry with the same key gets it again. */
export interface StoredResponse {
  readonly status: number;
  readonly body: unknown;
  /** Hex SHA-256 of the file that was uploaded: a replay must send the same file. */
  readonly sha256?: string;
}

/**
 * What `reserve` found:
 * - `reserved`: nobody holds the key; this request now does, by `lease`, until it completes or releases it.
 * - `in-flight`: another request with the same key is still running.
 * - `completed`: an earlier request succeeded; replay its response.
 */
export type Reservation =
  | { readonly state: 'reserved'; readonly lease: HeldLease }
  | { readonly state: 'in-flight' }
  | { readonly state: 'completed'; readonly response: StoredResponse };

/**
 * Idempotency records, per client: `clientKey` is whoever the rate limiter counts the request as
 * (the client address, or an upload token's subject), so one client's keys never collide with
 * another's. Every method rejects when its store cannot answer.
 */
export interface IdempotencyStore {
  /** `onLost`: the in-flight lease expired under the request and may be another's now. */
  reserve(clientKey: string, idempotencyKey: string, onLost?: () => void): Promise<Reservation>;
  /**
   * Keeps `response` for IDEMPOTENCY_COMPLETED_TTL_MS and gives the lease back, unless the lease was
   * lost to another request (its answer will be the one kept). To give the key back without an
   * answer (the upload failed, the client may try again), release the lease.
   */
  complete(clientKey: string, idempotencyKey: string, lease: HeldLease, response: StoredResponse): Promise<void>;
}

/** Where completed answers are kept, by recordKey(clientKey, idempotencyKey). */
export interface CompletedRecords {
  get(name: string): Promise<StoredResponse | undefined>;
  /** Keeps `response` for IDEMPOTENCY_COMPLETED_TTL_MS. */
  put(name: string, response: StoredResponse): Promise<void>;
}
