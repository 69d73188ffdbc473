import type { UploadLease, UploadLeaseStore } from './upload-lease-store';

/**
 * Counts each client's uploads in progress in this process: alone when REDIS_URL is unset, and as the
 * per-replica fallback while Redis is unreachable. A lease lives in memory only, so a crash cannot
 * leak one.
 */
export class MemoryUploadLeaseStore implements UploadLeaseStore {
  readonly #held = new Map<string, number>();

  acquire(clientKey: string, max: number): Promise<UploadLease | undefined> {
    const held = this.#held.get(clientKey) ?? 0;
    if (held >= max) return Promise.resolve(undefined);
    this.#held.set(clientKey, held + 1);
    let released = false;
    return Promise.resolve({
      release: () => {
        if (released) return;
        released = true;
        const left = (this.#held.get(clientKey) ?? 1) - 1;
        // Keys of clients with nothing in progress go, so the map holds only current uploaders.
        if (left <= 0) this.#held.delete(clientKey);
        else this.#held.set(clientKey, left);
      },
    });
  }

  held(clientKey: string): Promise<number> {
    return Promise.resolve(this.#held.get(clientKey) ?? 0);
  }
}
