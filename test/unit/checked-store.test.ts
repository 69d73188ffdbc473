import { once } from 'node:events';
import { Readable } from 'node:stream';
import { DataStore, Upload } from '@tus/utils';
import { isApiError } from '../../src/errors';
import type { BackingStore } from '../../src/intake/resumable/backing-store';
import { CheckedStore } from '../../src/intake/resumable/checked-store';
import { MemoryUploadReservations } from '../../src/state/upload-reservations';
import { sizedMedia } from '../support/sized-media';

/**
 * CheckedStore's duties, whichever store holds the bytes: an in-memory BackingStore stands in, one
 * that can read back every stored byte (as the file store) or none (as S3 once bytes left as a part).
 */

const MAX_BYTES = { image: 50_000_000, video: 200 * 1024 * 1024, audio: 50_000_000 };
const HOUR = 3_600_000;

class MemoryTusStore extends DataStore {
  readonly uploads = new Map<string, { upload: Upload; bytes: Buffer }>();

  constructor() {
    super();
    this.extensions = ['creation', 'creation-with-upload', 'creation-defer-length', 'termination', 'expiration'];
  }

  override create(upload: Upload): Promise<Upload> {
    upload.creation_date = new Date().toISOString();
    this.uploads.set(upload.id, { upload, bytes: Buffer.alloc(0) });
    return Promise.resolve(upload);
  }

  /** Keeps every byte that arrived, also when the source fails midway (as a file does). */
  override async write(source: Readable, id: string, offset: number): Promise<number> {
    const stored = this.uploads.get(id)!;
    stored.bytes = stored.bytes.subarray(0, offset);
    for await (const chunk of source) {
      stored.bytes = Buffer.concat([stored.bytes, chunk as Buffer]);
      this.emit('stored', stored.bytes.length);
    }
    return stored.bytes.length;
  }

  override getUpload(id: string): Promise<Upload> {
    const stored = this.uploads.get(id);
    if (stored === undefined) return Promise.reject(new Error('no such upload'));
    return Promise.resolve(new Upload({ ...stored.upload, offset: stored.bytes.length }));
  }

  override remove(id: string): Promise<void> {
    this.uploads.delete(id);
    return Promise.resolve();
  }
}

function memoryBacking(readsBack: boolean): BackingStore & { readonly tus: MemoryTusStore } {
  const tus = new MemoryTusStore();
  return {
    tus,
    info: (id) => Promise.resolve(tus.uploads.get(id)?.upload),
    readHead: (id, count) => Promise.resolve(readsBack ? (tus.uploads.get(id)?.bytes ?? Buffer.alloc(0)).subarray(0, count) : Buffer.alloc(0)),
    open: (id) => Readable.from([tus.uploads.get(id)!.bytes]),
    list: () => Promise.resolve([...tus.uploads.keys()]),
  };
}

function setup(readsBack = true) {
  const backing = memoryBacking(readsBack);
  const reservations = new MemoryUploadReservations({ totalBytes: 10 ** 9, bytesPerClient: 10 ** 9, uploadsPerClient: 100 });
  const store = new CheckedStore({ backing, maxBytes: MAX_BYTES, reservations, expiryMs: HOUR });
  let next = 0;
  const create = async (bytes: Buffer, filetype: string): Promise<string> => {
    const id = String(next++).padStart(32, '0');
    await reservations.reserve(id, 'client', bytes.length);
    await store.create(new Upload({ id, size: bytes.length, offset: 0, metadata: { filetype } }));
    return id;
  };
  return { backing, reservations, store, create };
}

const html = Buffer.concat([Buffer.from('<!doctype html><html><body>'), Buffer.alloc(20_000, 0x20)]);

async function refusalOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return isApiError(error) ? error.code : `not a catalogue error: ${String(error)}`;
  }
}

describe('CheckedStore', () => {
  it('does not offer deferred lengths, whatever the store offers', () => {
    expect(setup().store.extensions).toEqual(['creation', 'creation-with-upload', 'termination', 'expiration']);
  });

  it('checks the first bytes as they pass through a write, even where the store cannot read them back', async () => {
    const { store, create, backing, reservations } = setup(false);
    const id = await create(html, 'image/png');
    expect(await refusalOf(store.write(Readable.from([html]), id, 0))).toBe('CONTENT_MISMATCH');
    expect(backing.tus.uploads.has(id)).toBe(false);
    expect((await reservations.totals('client')).clientUploads).toBe(0);
  });

  it('joins the bytes stored by earlier writes to those of this one', async () => {
    const { store, create, backing } = setup(true);
    const png = sizedMedia('image/png', 20_000);
    const good = await create(png, 'image/png');
    expect(await store.write(Readable.from([png.subarray(0, 1000)]), good, 0)).toBe(1000);
    expect(await store.write(Readable.from([png.subarray(1000, 6000)]), good, 1000)).toBe(6000);
    expect(backing.tus.uploads.has(good)).toBe(true);

    const bad = await create(html, 'image/png');
    expect(await store.write(Readable.from([html.subarray(0, 1000)]), bad, 0)).toBe(1000);
    expect(await refusalOf(store.write(Readable.from([html.subarray(1000, 6000)]), bad, 1000))).toBe('CONTENT_MISMATCH');
    expect(backing.tus.uploads.has(bad)).toBe(false);
  });

  it('checks what a failed write stored: the write fails as it did, and checkStored answers the refusal', async () => {
    const { store, create, backing } = setup(false);
    const id = await create(html, 'image/png');
    const failing = new Readable({ read() {} });
    const writing = store.write(failing, id, 0);
    const stored = once(backing.tus, 'stored');
    failing.push(html.subarray(0, 8000));
    expect(await stored).toEqual([8000]);
    failing.destroy(new Error('the connection dropped'));
    // tus answers from its own error, possibly before the store's write has given up.
    const checked = refusalOf(store.checkStored(id));
    expect(await refusalOf(writing)).toBe('not a catalogue error: Error: the connection dropped');
    expect(await checked).toBe('CONTENT_MISMATCH');
    expect(backing.tus.uploads.has(id)).toBe(false);
  });

  it('expires unfinished uploads through remove(), giving their room back, and keeps finished and recent ones', async () => {
    const { store, create, backing, reservations } = setup(true);
    const png = sizedMedia('image/png', 20_000);
    const [old, finished, recent] = [await create(png, 'image/png'), await create(png, 'image/png'), await create(png, 'image/png')];
    await store.write(Readable.from([png]), finished, 0);
    for (const id of [old, finished]) backing.tus.uploads.get(id)!.upload.creation_date = new Date(Date.now() - 2 * HOUR).toISOString();
    expect(await store.deleteExpired()).toBe(1);
    expect([...backing.tus.uploads.keys()].sort()).toEqual([finished, recent].sort());
    expect((await reservations.totals('client')).clientUploads).toBe(2);
  });
});
