import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileStore } from '@tus/file-store';
import type { Upload } from '@tus/utils';
import { SPOOL_BUFFER_BYTES } from '../../upload/spool';
import type { BackingStore, ResumableStorage } from './backing-store';
import { CompletionRecords } from './completion-records';

/** RESUMABLE_STORE=file: uploads as files in one directory every replica mounts (a ReadWriteMany volume). */
export function fileStorage(options: { directory: string; expiryMs: number }): ResumableStorage {
  return { backing: new FileBackingStore(options.directory, options.expiryMs), records: new CompletionRecords(options.directory) };
}

/** @tus/file-store as a BackingStore: every stored byte can be read back from the upload's file. */
class FileBackingStore implements BackingStore {
  readonly tus: FileStore;

  constructor(directory: string, expiryMs: number) {
    this.tus = new FileStore({ directory, expirationPeriodInMilliseconds: expiryMs });
  }

  async info(id: string): Promise<Upload | undefined> {
    return this.tus.configstore.get(id).catch(() => undefined);
  }

  async readHead(id: string, count: number): Promise<Buffer> {
    const handle = await open(this.#pathOf(id), 'r');
    try {
      const buffer = Buffer.alloc(count);
      const { bytesRead } = await handle.read(buffer, 0, count, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  open(id: string): Readable {
    return createReadStream(this.#pathOf(id), { highWaterMark: SPOOL_BUFFER_BYTES });
  }

  async list(): Promise<string[]> {
    return (await this.tus.configstore.list?.()) ?? [];
  }

  #pathOf(id: string): string {
    return join(this.tus.directory, id);
  }
}
