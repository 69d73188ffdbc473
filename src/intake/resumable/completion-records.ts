import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorCode } from '../../errors';
import type { AssetRecord } from '../../heygen/asset-record';
import type { UpstreamFailureKind } from '../../heygen/upstream-failure';

/** What became of a finished upload, kept next to it (RESUMABLE_DIR/.records/<id>.json) for every replica to read. */
export type CompletionRecord =
  /** HeyGen has it; its bytes are gone from the disk. */
  | { readonly state: 'done'; readonly record: AssetRecord; readonly at: number; readonly owner?: string }
  /** The proxy refused the finished file (a broken structure, ...); its bytes are gone. Final. */
  | { readonly state: 'refused'; readonly code: ErrorCode; readonly message: string; readonly at: number; readonly owner?: string }
  /** The last attempt to forward failed at HeyGen; the bytes are kept and a retried final PATCH tries again. */
  | { readonly state: 'failed'; readonly kind: UpstreamFailureKind; readonly retryAfterSeconds?: number; readonly at: number; readonly owner?: string };

/**
 * Completion records and forwarding claims, as small files in a directory every replica mounts.
 * The claim (`<id>.forwarding`, created with O_EXCL) makes one request on one replica forward a
 * finished upload; it is refreshed while forwarding runs, so a replica that died mid-forward leaves a
 * claim that goes stale and is taken over (HeyGen's Idempotency-Key, derived from the upload id,
 * makes that second attempt harmless).
 */
export class CompletionRecords {
  readonly #directory: string;
  readonly #staleAfterMs: number;

  constructor(directory: string, staleAfterMs: number) {
    this.#directory = join(directory, '.records');
    this.#staleAfterMs = staleAfterMs;
    // At start, once: a directory that cannot be made should stop the process there, not fail uploads later.
    mkdirSync(this.#directory, { recursive: true, mode: 0o700 });
  }

  async read(id: string): Promise<CompletionRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.#record(id), 'utf8')) as CompletionRecord;
    } catch {
      return undefined;
    }
  }

  /** Written to a temp file and renamed into place, so a reader never sees half a record. */
  async write(id: string, record: CompletionRecord): Promise<void> {
    const temp = join(this.#directory, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    await rename(temp, this.#record(id));
  }

  /** True when this caller now holds the forwarding claim. */
  async claim(id: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        const handle = await open(this.#claim(id), 'wx', 0o600);
        await handle.close();
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if (await this.forwarding(id)) return false;
        // Stale: its holder died mid-forward. Remove it and try once more (another replica may win).
        await rm(this.#claim(id), { force: true });
      }
    }
    return false;
  }

  /** A live claim exists: some request on some replica is forwarding this upload now. */
  async forwarding(id: string): Promise<boolean> {
    try {
      const { mtimeMs } = await stat(this.#claim(id));
      return Date.now() - mtimeMs < this.#staleAfterMs;
    } catch {
      return false;
    }
  }

  async refresh(id: string): Promise<void> {
    const now = new Date();
    await utimes(this.#claim(id), now, now).catch(() => undefined);
  }

  async release(id: string): Promise<void> {
    await rm(this.#claim(id), { force: true });
  }

  /** Removes records older than `ageMs` and stale claims; returns how many records went. */
  async removeOlderThan(ageMs: number): Promise<number> {
    let removed = 0;
    const now = Date.now();
    for (const name of await readdir(this.#directory).catch(() => [] as string[])) {
      const path = join(this.#directory, name);
      const info = await stat(path).catch(() => undefined);
      if (info === undefined) continue;
      const age = now - info.mtimeMs;
      if (name.endsWith('.json') && age > ageMs) {
        await rm(path, { force: true });
        removed += 1;
      } else if ((name.endsWith('.forwarding') && age > this.#staleAfterMs) || (name.endsWith('.tmp') && age > ageMs)) {
        await rm(path, { force: true });
      }
    }
    return removed;
  }

  #record(id: string): string {
    return join(this.#directory, `${id}.json`);
  }

  #claim(id: string): string {
    return join(this.#directory, `${id}.forwarding`);
  }
}
