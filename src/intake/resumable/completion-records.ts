import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorCode } from '../../errors';
import type { AssetRecord } from '../../heygen/asset-record';
import type { UpstreamFailureKind } from '../../heygen/upstream-failure';

/** What became of a finished upload, kept next to it (a file, or an object beside the uploads) for every replica to read. */
export type CompletionRecord =
  /** HeyGen has it; its bytes are gone from the disk. */
  | { readonly state: 'done'; readonly record: AssetRecord; readonly at: number; readonly owner?: string }
  /** The proxy refused the finished file (a broken structure, ...); its bytes are gone. Final. */
  | { readonly state: 'refused'; readonly code: ErrorCode; readonly message: string; readonly at: number; readonly owner?: string }
  /** The last attempt to forward failed at HeyGen; the bytes are kept and a retried final PATCH tries again. */
  | { readonly state: 'failed'; readonly kind: UpstreamFailureKind; readonly retryAfterSeconds?: number; readonly at: number; readonly owner?: string };

/**
 * Where completion records are kept, shared by every replica: beside the uploads, in whichever store
 * holds them. Who forwards is decided elsewhere (CompletionClaims, a lease): a record only says what
 * became of it.
 */
export interface CompletionRecordStore {
  read(id: string): Promise<CompletionRecord | undefined>;
  /** Replaces the record whole: a reader sees the old one or the new one, never half of either. */
  write(id: string, record: CompletionRecord): Promise<void>;
  /** Removes records older than `ageMs`; returns how many went. */
  removeOlderThan(ageMs: number): Promise<number>;
}

/**
 * Completion records, as small files in the directory every replica mounts beside the uploads. Who
 * forwards is decided elsewhere (CompletionClaims, a lease): a record only says what became of it.
 */
export class CompletionRecords implements CompletionRecordStore {
  readonly #directory: string;

  constructor(directory: string) {
    this.#directory = join(directory, '.records');
    // At start, once: a directory that cannot be made should stop the process there, not fail uploads later.
    mkdirSync(this.#directory, { recursive: true, mode: 0o700 });
  }

  /** No record (not finished yet) is undefined; a failed read is thrown, never taken for that. */
  async read(id: string): Promise<CompletionRecord | undefined> {
    let text: string;
    try {
      text = await readFile(this.#record(id), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return JSON.parse(text) as CompletionRecord;
  }

  /** Written to a temp file and renamed into place, so a reader never sees half a record. */
  async write(id: string, record: CompletionRecord): Promise<void> {
    const temp = join(this.#directory, `.${id}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temp, JSON.stringify(record), { mode: 0o600 });
    await rename(temp, this.#record(id));
  }

  /** Removes records (and temp files left by a crash mid-write) older than `ageMs`; returns how many records went. */
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
      } else if (name.endsWith('.tmp') && age > ageMs) {
        await rm(path, { force: true });
      }
    }
    return removed;
  }

  #record(id: string): string {
    return join(this.#directory, `${id}.json`);
  }
}
