import type { UploadLease, UploadLeaseStore } from './upload-lease-store';

/**
 * Each client's uploads in progress as a plain count in this process: the store for a single replica
 * (no REDIS_URL). A lease in memory needs neither a random token nor a heartbeat: nothing outside this
 * process can take it over or outlive it, and a replica that dies takes its counts with it. So a slot
 * is one increment when an upload starts and one decrement when it ends. With Redis, the slots are
 * leases shared by the replicas (create-upload-lease-store.ts).
 */
export class MemoryUploadCounts implements UploadLeaseStore {
  readonly #counts = new Map<string, number>();

  acquire(clientKey: string, max: number): Promise<UploadLease | undefined> {
    const held = this.#counts.get(clientKey) ?? 0;
    if (held >= max) return Promise.resolve(undefined);
    this.#counts.set(clientKey, held + 1);
    let released = false;
    return Promise.resolve({
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#counts.get(clientKey) ?? 1) - 1;
        // A client with nothing in progress leaves no entry behind.
        if (left > 0) this.#counts.set(clientKey, left);
        else this.#counts.delete(clientKey);
      },
    });
  }

  held(clientKey: string, max: number): Promise<number> {
    return Promise.resolve(Math.min(max, this.#counts.get(clientKey) ?? 0));
  }
}
