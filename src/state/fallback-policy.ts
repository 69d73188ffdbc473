import { ApiError, type ErrorCode } from '../errors';
import type { Logger } from '../ops/logger';
import { withTimeout } from '../with-timeout';
import type { HeldLease, LeaseOptions, LeaseStore } from './lease';

/** Everything that keeps state in the shared Redis. */
export type SharedStateUser = 'rateLimit' | 'clientUploads' | 'idempotency' | 'resumableLocks' | 'completionClaims' | 'resumableReservations';

/**
 * What a user of the shared state does when Redis does not answer:
 * - `per-replica`: carry on with this replica's own count in memory until Redis is back. Neither
 *   fail-open (an outage would lift a budget on a paid quota) nor fail-closed (it would stop every
 *   upload): each replica enforces the budget alone meanwhile.
 * - `refuse`: answer 503 with `refusal`. For state whose whole point is that every replica sees it:
 *   a per-replica idempotency record or tus lock would let a retry on another replica upload twice
 *   or write one file from two requests.
 */
export type FallbackPolicy =
  | { readonly whenRedisFails: 'per-replica'; readonly answerWithinMs: number; readonly describe: string }
  | {
      readonly whenRedisFails: 'refuse';
      readonly answerWithinMs: number;
      readonly describe: string;
      readonly refusal: ErrorCode;
      readonly retryAfterSeconds?: number;
    };

/** The one place that decides, per user, how long Redis may take and what happens when it fails. */
export const FALLBACK_POLICY = {
  // The upload should not wait on its budget: slower than this counts as Redis failing.
  rateLimit: { whenRedisFails: 'per-replica', answerWithinMs: 500, describe: 'rate limits' },
  clientUploads: { whenRedisFails: 'per-replica', answerWithinMs: 500, describe: 'per-client upload caps' },
  // Slower than this fails the request with 503 rather than hold it (and its slot) open.
  idempotency: { whenRedisFails: 'refuse', answerWithinMs: 2_000, describe: 'keyed uploads', refusal: 'IDEMPOTENCY_UNAVAILABLE' },
  resumableLocks: {
    whenRedisFails: 'refuse',
    answerWithinMs: 2_000,
    describe: 'resumable uploads',
    refusal: 'RESUMABLE_UNAVAILABLE',
    retryAfterSeconds: 1,
  },
  completionClaims: {
    whenRedisFails: 'refuse',
    answerWithinMs: 2_000,
    describe: 'resumable completions',
    refusal: 'RESUMABLE_UNAVAILABLE',
    retryAfterSeconds: 1,
  },
  // A per-replica count of the shared store's room would let each replica fill it again.
  resumableReservations: {
    whenRedisFails: 'refuse',
    answerWithinMs: 2_000,
    describe: 'resumable creations',
    refusal: 'RESUMABLE_UNAVAILABLE',
    retryAfterSeconds: 1,
  },
} as const satisfies Readonly<Record<SharedStateUser, FallbackPolicy>>;

/** The users that refuse when Redis fails. */
export type RefusingUser = {
  [User in SharedStateUser]: (typeof FALLBACK_POLICY)[User] extends { whenRedisFails: 'refuse' } ? User : never;
}[SharedStateUser];

/** The 503 `user` answers with when Redis failed it; `cause` is kept for the log. */
export function refusalFor(user: RefusingUser, cause: unknown): ApiError {
  const policy: FallbackPolicy = FALLBACK_POLICY[user];
  if (policy.whenRedisFails !== 'refuse') throw new Error(`${user} does not refuse when Redis fails`);
  const headers = policy.retryAfterSeconds === undefined ? undefined : { 'Retry-After': String(policy.retryAfterSeconds) };
  return new ApiError(policy.refusal, undefined, { cause, headers });
}

/** What /readyz says while Redis is unreachable: which state went per-replica and which is refused. */
export function degradedStatus(): string {
  const policies: FallbackPolicy[] = Object.values(FALLBACK_POLICY);
  const perReplica = policies.filter((policy) => policy.whenRedisFails === 'per-replica').map((policy) => policy.describe);
  const refused = policies.filter((policy) => policy.whenRedisFails === 'refuse').map((policy) => policy.describe);
  return `degraded: redis unreachable; per-replica budgets in force for ${perReplica.join(', ')}; ${refused.join(', ')} refused with 503`;
}

/**
 * Runs each call on the shared store while it is usable and answers within the user's time, else
 * on this replica's own store, and says so in the log (once a minute: enough to see a degraded
 * budget without a line per request).
 */
export class PerReplicaFallback {
  readonly #user: SharedStateUser;
  readonly #sharedUsable: () => boolean;
  readonly #logger: Logger;
  #lastWarning = Number.NEGATIVE_INFINITY;

  constructor(user: SharedStateUser, sharedUsable: () => boolean, logger: Logger) {
    if ((FALLBACK_POLICY[user] as FallbackPolicy).whenRedisFails !== 'per-replica') throw new Error(`${user} must refuse, not fall back, when Redis fails`);
    this.#user = user;
    this.#sharedUsable = sharedUsable;
    this.#logger = logger;
  }

  /**
   * `shared()` bounded by the user's time; `local()` when that fails or Redis is known to be down.
   * `giveBack` undoes what the shared store grants after the wait was given up (a late lease).
   */
  async run<T>(shared: () => Promise<T>, local: () => Promise<T>, giveBack?: (late: T) => void): Promise<T> {
    if (this.#sharedUsable()) {
      const { answerWithinMs } = FALLBACK_POLICY[this.#user];
      const answering = Promise.resolve().then(shared);
      try {
        return await withTimeout(answering, answerWithinMs, `redis did not answer within ${answerWithinMs} ms`);
      } catch (error) {
        if (giveBack) answering.then(giveBack, () => undefined);
        this.#warn(error);
      }
    }
    return local();
  }

  #warn(error: unknown): void {
    if (performance.now() - this.#lastWarning < 60_000) return;
    this.#lastWarning = performance.now();
    this.#logger.warn(
      { err: error instanceof Error ? error.message : String(error), store: this.#user },
      `shared ${FALLBACK_POLICY[this.#user].describe} failed; using the per-replica budget`,
    );
  }
}

/**
 * The leases `user` takes, with its policy applied: on Redis while it answers and this replica's
 * own while it does not (per-replica), or on Redis alone with every failure turned into the user's
 * 503 (refuse). A lease is given back to the store that granted it, since each held lease carries
 * its own release.
 */
export function leasesWithPolicy(user: SharedStateUser, shared: LeaseStore, local: LeaseStore, sharedUsable: () => boolean, logger: Logger): LeaseStore {
  const policy: FallbackPolicy = FALLBACK_POLICY[user];
  if (policy.whenRedisFails === 'refuse') return refusingLeases(user as RefusingUser, shared);
  const fallback = new PerReplicaFallback(user, sharedUsable, logger);
  const giveBack = (late: HeldLease | undefined): void => void late?.release();
  return {
    acquire: (key, options) => fallback.run(() => shared.acquire(key, options), () => local.acquire(key, options), giveBack),
    acquireSlot: (key, slots, options) =>
      fallback.run(() => shared.acquireSlot(key, slots, options), () => local.acquireSlot(key, slots, options), giveBack),
    isHeld: (key) => fallback.run(() => shared.isHeld(key), () => local.isHeld(key)),
    heldSlots: (key, slots) => fallback.run(() => shared.heldSlots(key, slots), () => local.heldSlots(key, slots)),
  };
}

function refusingLeases(user: RefusingUser, shared: LeaseStore): LeaseStore {
  const refusing = <T>(call: () => Promise<T>): Promise<T> =>
    Promise.resolve()
      .then(call)
      .catch((error: unknown) => {
      throw refusalFor(user, error);
    });
  return {
    acquire: (key: string, options: LeaseOptions): Promise<HeldLease | undefined> => refusing(() => shared.acquire(key, options)),
    acquireSlot: (key, slots, options) => refusing(() => shared.acquireSlot(key, slots, options)),
    isHeld: (key) => refusing(() => shared.isHeld(key)),
    heldSlots: (key, slots) => refusing(() => shared.heldSlots(key, slots)),
  };
}
