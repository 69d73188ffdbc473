import type { HeldLease, LeaseOptions } from './lease';

/** What a store does for one lease it granted: the two operations that need its token. */
export interface GrantedLease {
  readonly key: string;
  readonly token: string;
  /** Compare-and-extend: true while the lease is still this token's. */
  refresh(): Promise<boolean>;
  /** Compare-and-delete. */
  remove(): Promise<void>;
}

/**
 * Turns a grant into a held lease with a heartbeat: refreshed every `refreshEveryMs` (a third of the
 * TTL, so two refreshes may fail before it lapses) for as long as the holder lives, and no longer:
 * a process that dies stops refreshing, and its lease expires within one TTL.
 */
export function holdLease(grant: GrantedLease, options: LeaseOptions): HeldLease {
  const everyMs = options.refreshEveryMs ?? Math.max(10, Math.floor(options.ttlMs / 3));
  let released = false;
  let lost = false;
  const heartbeat = setInterval(() => {
    grant.refresh().then(
      (held) => {
        if (released) return;
        if (held) {
          options.onRefreshed?.();
          return;
        }
        if (lost) return;
        lost = true;
        clearInterval(heartbeat);
        options.onLost?.();
      },
      // A refresh the store did not answer changes nothing yet: the next one may, before the TTL runs out.
      () => undefined,
    );
  }, everyMs);
  heartbeat.unref();
  return {
    key: grant.key,
    token: grant.token,
    refresh: () => (released ? Promise.resolve(false) : grant.refresh()),
    async release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      await grant.remove().catch(() => undefined);
    },
    abandon() {
      released = true;
      clearInterval(heartbeat);
    },
  };
}

/**
 * A bounded acquire: the grant if the store answers within `ms`, else a rejection. A grant the store
 * makes after the caller stopped waiting is given back at once; otherwise it would keep the key
 * from everyone, its holder included, until its TTL ran out.
 */
export function acquireWithin(acquiring: Promise<HeldLease | undefined>, ms: number, what: string): Promise<HeldLease | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let gaveUp = false;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      gaveUp = true;
      reject(new Error(`${what} did not answer within ${ms} ms`));
    }, ms);
  });
  acquiring.then(
    (late) => {
      if (gaveUp) void late?.release();
    },
    () => undefined,
  );
  return Promise.race([acquiring, timeout]).finally(() => clearTimeout(timer));
}
