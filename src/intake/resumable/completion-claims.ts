/** One request's hold on forwarding one finished upload; given back when the forward has ended. */
export interface HeldClaim {
  release(): Promise<void>;
}

/**
 * Who forwards a finished upload: exactly one request on one replica at a time. A claim lives
 * seconds and is refreshed while its holder lives, so a replica that dies mid-forward frees it within
 * about its lease time (HeyGen's Idempotency-Key, derived from the upload id, makes a second attempt
 * harmless).
 */
export interface CompletionClaims {
  /** The claim, or undefined while another holds it. */
  claim(id: string): Promise<HeldClaim | undefined>;
  /** Some request somewhere holds the claim now. */
  isClaimed(id: string): Promise<boolean>;
}

/** Claims in this process: for a single replica without REDIS_URL (its tus locks are in-process too). */
export class MemoryCompletionClaims implements CompletionClaims {
  readonly #held = new Set<string>();

  claim(id: string): Promise<HeldClaim | undefined> {
    if (this.#held.has(id)) return Promise.resolve(undefined);
    this.#held.add(id);
    return Promise.resolve({
      release: () => {
        this.#held.delete(id);
        return Promise.resolve();
      },
    });
  }

  isClaimed(id: string): Promise<boolean> {
    return Promise.resolve(this.#held.has(id));
  }
}
