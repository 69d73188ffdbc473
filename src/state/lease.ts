/**
 * A lease: one holder at a time for a key, for a time. It is taken with a random token, lives
 * `ttlMs` unless refreshed, and is given back by compare-and-delete, so a holder whose lease expired
 * and was taken by another can neither extend nor delete the new holder's. Expiry is measured by the
 * store alone (Redis's PX, or this process's clock in memory), never by comparing two machines' clocks.
 */
export interface LeaseOptions {
  /** How long the lease lives unless refreshed: the longest a holder that died keeps others out. */
  readonly ttlMs: number;
  /** How often the heartbeat refreshes the lease while it is held; a third of ttlMs unless given. */
  readonly refreshEveryMs?: number;
  /** Called once when a refresh finds the lease no longer this holder's (it expired and was taken, or deleted). */
  readonly onLost?: () => void;
  /** Called after each heartbeat that kept the lease (a holder may look at the store then, as the tus locker does). */
  readonly onRefreshed?: () => void;
}

/** A lease this process holds; its heartbeat refreshes it until release(). */
export interface HeldLease {
  /** The key held, as the store names it to callers (a slot lease's is `<key>:<slot>`). */
  readonly key: string;
  readonly token: string;
  /** Extends the lease by its TTL from now if it is still this holder's; false when it is not. */
  refresh(): Promise<boolean>;
  /**
   * Stops the heartbeat and deletes the lease if it is still this holder's. Safe to call more than
   * once; never rejects: a lease the store could not be told about expires by itself.
   */
  release(): Promise<void>;
  /** Stops the heartbeat and leaves the lease to lapse within its TTL, keeping others out until then. */
  abandon(): void;
}

/**
 * Where leases are kept: Redis shared by every replica (RedisLeaseStore), or this process
 * (MemoryLeaseStore). Every method rejects when the store cannot answer; what that means for a
 * request is the fallback policy's business (fallback-policy.ts), not the caller's.
 */
export interface LeaseStore {
  /** The lease on `key`, or undefined while someone else holds it. */
  acquire(key: string, options: LeaseOptions): Promise<HeldLease | undefined>;
  /**
   * A counting lease: one of `slots` leases on `key` (`<key>:0` .. `<key>:<slots - 1>`, the first
   * free one), or undefined while all are held. Each slot is an ordinary lease.
   */
  acquireSlot(key: string, slots: number, options: LeaseOptions): Promise<HeldLease | undefined>;
  /** Whether anyone holds `key` right now. */
  isHeld(key: string): Promise<boolean>;
  /** How many of `key`'s `slots` are held right now. */
  heldSlots(key: string, slots: number): Promise<number>;
}

/** The slot leases' key names, the same in every store. */
export function slotKey(key: string, slot: number): string {
  return `${key}:${slot}`;
}
