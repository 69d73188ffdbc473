import type { LeaseStore } from '../../state/lease';

/** One request's hold on forwarding one finished upload; given back when the forward has ended. */
export interface HeldClaim {
  release(): Promise<void>;
}

/**
 * Who forwards a finished upload: exactly one request on one replica at a time. A claim lives
 * seconds and is refreshed while its holder lives, so a replica that dies mid-forward frees it within
 * about CLAIM_TTL_MS (HeyGen's Idempotency-Key, derived from the upload id, makes a second attempt
 * harmless).
 */
export interface CompletionClaims {
  /** The claim, or undefined while another holds it. */
  claim(id: string): Promise<HeldClaim | undefined>;
  /** Some request somewhere holds the claim now. */
  isClaimed(id: string): Promise<boolean>;
}

/** Long enough to ride out a slow Redis answer or two; short enough that a dead replica's forward is taken over in seconds. */
const CLAIM_TTL_MS = 15_000;

/** Claims as leases (state/): in Redis, timed by Redis alone, when replicas share one; in this process otherwise. */
export function leasedCompletionClaims(leases: LeaseStore): CompletionClaims {
  const keyOf = (id: string): string => `tus-forward:${id}`;
  return {
    claim: (id) => leases.acquire(keyOf(id), { ttlMs: CLAIM_TTL_MS }),
    isClaimed: (id) => leases.isHeld(keyOf(id)),
  };
}
