import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pump } from '../../src/upload/pump';
import { readHead } from '../../src/upload/read-head';
import { SPOOL_MEMORY_BYTES } from '../../src/upload/spool';
import { Spool } from '../../src/upload/spool';
import { ByteBudget } from '../../src/upload/byte-budget';
import { InspectedStream } from '../../src/upload/inspected-stream';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('readHead', () => {
  it('returns the first bytes and the whole stream again', async () => {
    const data = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));
    const source = new PassThrough();
    source.end(data);
    const { head, stream } = await readHead(source, 4100);
    expect(head).toEqual(data.subarray(0, 4100));
    expect(await collect(stream)).toEqual(data);
  });

  it('returns a short stream whole, and an empty one empty', async () => {
    const short = new PassThrough();
    short.end(Buffer.from('abc'));
    const result = await readHead(short, 4100);
    expect(result.head.toString()).toBe('abc');
    expect((await collect(result.stream)).toString()).toBe('abc');

    const empty = new PassThrough();
    empty.end();
    expect((await readHead(empty, 4100)).head.length).toBe(0);
  });
});

describe('ByteBudget in an InspectedStream', () => {
  it('passes a stream at its budget and fails one byte over', async () => {
    const exact = new ByteBudget(10, () => new Error('over'));
    await expect(pipeline(Readable.from([Buffer.alloc(6), Buffer.alloc(4)]), new InspectedStream([exact]), new PassThrough().resume())).resolves.toBeUndefined();
    expect(exact.bytes).toBe(10);
    const over = new ByteBudget(10, () => new Error('over'));
    await expect(pipeline(Readable.from([Buffer.alloc(6), Buffer.alloc(5)]), new InspectedStream([over]), new PassThrough().resume())).rejects.toThrow('over');
  });
});

describe('pump', () => {
  function sink(): Writable & { received: Buffer[] } {
    const received: Buffer[] = [];
    const writable = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        callback();
      },
    });
    return Object.assign(writable, { received });
  }

  it('resolves once the sink has every byte', async () => {
    const target = sink();
    await pump(Readable.from([Buffer.from('ab'), Buffer.from('cd')]), new PassThrough(), target);
    expect(Buffer.concat(target.received).toString()).toBe('abcd');
    expect(target.writableFinished).toBe(true);
  });

  it('rejects with the first error and destroys every stream', async () => {
    const source = new PassThrough();
    const limiter = new InspectedStream([new ByteBudget(3, () => new Error('over'))]);
    const target = sink();
    const pumping = pump(source, limiter, target);
    source.write(Buffer.from('abcd'));
    await expect(pumping).rejects.toThrow('over');
    expect([source.destroyed, limiter.destroyed, target.destroyed]).toEqual([true, true, true]);
  });

  it('rejects when the source closes before its end (a client that went away)', async () => {
    const source = new PassThrough();
    const target = sink();
    const pumping = pump(source, target);
    source.write(Buffer.from('ab'));
    source.destroy();
    await expect(pumping).rejects.toThrow(/premature close/i);
    expect(target.destroyed).toBe(true);
  });
});

describe('Spool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-unit-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('keeps a small file in memory and gives it back as one buffer', async () => {
    const spool = new Spool(dir);
    await pipeline(Readable.from([Buffer.from('hello '), Buffer.from('world')]), spool);
    expect(spool.body()).toEqual(Buffer.from('hello world'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('moves a large file to a private temp file, replays it as often as asked, and removes it', async () => {
    const data = Buffer.alloc(SPOOL_MEMORY_BYTES + 12345, 7);
    const spool = new Spool(dir);
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), spool);
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    // Buffer.equals, not toEqual: jest compares a 1 MiB buffer byte by byte in JavaScript, which took
    // 15 s alone and passed the 30 s test timeout under a full run's load.
    expect((await readFile(join(dir, files[0]!))).equals(data)).toBe(true);
    const first = spool.body();
    const second = spool.body();
    expect((await collect(first as Readable)).equals(data)).toBe(true);
    expect((await collect(second as Readable)).equals(data)).toBe(true);
    await spool.dispose();
    await spool.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes its temp file when the source fails midway', async () => {
    const source = new PassThrough();
    const spool = new Spool(dir);
    const piping = pipeline(source, spool);
    source.write(Buffer.alloc(SPOOL_MEMORY_BYTES + 1));
    await new Promise<void>((resolve) => {
      const check = (): void => (readdirSync(dir).length === 1 ? resolve() : void setImmediate(check));
      check();
    });
    source.destroy(new Error('client went away'));
    await expect(piping).rejects.toThrow('client went away');
    await spool.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });
});
