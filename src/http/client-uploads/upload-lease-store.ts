/** One upload's hold on one of its client's slots; given back when the upload ends, however it ends. */
export interface UploadLease {
  /** Gives the slot back. Safe to call more than once; never throws. */
  release(): void;
}

/**
 * Where each client's uploads in progress are counted (MAX_UPLOADS_PER_CLIENT): in Redis when
 * replicas share one, else in this process (create-upload-lease-store.ts).
 */
export interface UploadLeaseStore {
  /** A lease on one of `clientKey`'s `max` slots, or undefined when all are taken. */
  acquire(clientKey: string, max: number): Promise<UploadLease | undefined>;
  /** How many of `clientKey`'s `max` slots are held right now (tests, diagnostics). */
  held(clientKey: string, max: number): Promise<number>;
}
