import type { LeaseStore } from '../../state/lease';
import type { UploadLeaseStore } from './upload-lease-store';

/**
 * A slot held for an upload in progress (MAX_UPLOADS_PER_CLIENT) expires this long after it was last
 * refreshed, so a replica that dies mid-upload gives its slots back within a minute; the request
 * holding one refreshes it (every third of this) while it runs, so a long upload keeps it.
 */
export const UPLOAD_LEASE_TTL_MS = 60_000;

/** Slot leases are named by this and the client (clientKeyOf), one counting lease per client. */
export const UPLOAD_LEASE_KEY_PREFIX = 'uploads-in-progress:';

/**
 * Each client's uploads in progress as a counting lease: MAX_UPLOADS_PER_CLIENT slots per client,
 * shared by every replica through Redis, or this replica's own while Redis is down or absent (the
 * clientUploads policy in fallback-policy.ts).
 */
export function createUploadLeaseStore(leases: LeaseStore): UploadLeaseStore {
  return {
    async acquire(clientKey, max) {
      const lease = await leases.acquireSlot(UPLOAD_LEASE_KEY_PREFIX + clientKey, max, { ttlMs: UPLOAD_LEASE_TTL_MS });
      if (lease === undefined) return undefined;
      // If the store cannot be told, the slot expires on its own within the TTL.
      return { release: () => void lease.release() };
    },
    held: (clientKey, max) => leases.heldSlots(UPLOAD_LEASE_KEY_PREFIX + clientKey, max),
  };
}
