import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteBudget } from '../../src/upload/byte-budget';
import type { ChunkInspector } from '../../src/upload/chunk-inspector';
import { HeldEnd } from '../../src/upload/held-end';
import { InspectedStream } from '../../src/upload/inspected-stream';
import { RunningSha256 } from '../../src/upload/running-sha256';
import { StructureCheck } from '../../src/upload/structure-check';
import { structureWalkerFor } from '../../src/upload/structure';
import { html, sample } from '../support/media-corpus';

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function piecesOf(bytes: Buffer, size: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) pieces.push(bytes.subarray(at, at + size));
  return pieces;
}

/** Records what it saw, to show order and what a refusal stops. */
class Witness implements ChunkInspector {
  readonly seen: number[] = [];
  finished = false;
  inspect(chunk: Buffer): undefined {
    this.seen.push(chunk.length);
    return undefined;
  }
  finish(): undefined {
    this.finished = true;
    return undefined;
  }
}

describe('ByteBudget', () => {
  it('counts every byte and refuses only past its limit', () => {
    const budget = new ByteBudget(10, () => new Error('over'));
    expect(budget.inspect(Buffer.alloc(4))).toBeUndefined();
    expect(budget.inspect(Buffer.alloc(6))).toBeUndefined();
    expect(budget.bytes).toBe(10);
    expect(budget.inspect(Buffer.alloc(1))?.message).toBe('over');
    expect(budget.finish()).toBeUndefined();
  });
});

describe('RunningSha256', () => {
  it('gives the SHA-256 of every chunk in order, and only once the file has ended', () => {
    const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => i % 253));
    const hash = new RunningSha256();
    for (const piece of piecesOf(bytes, 777)) hash.inspect(piece);
    expect(() => hash.hex).toThrow(/not ended/);
    hash.finish();
    expect(hash.hex).toBe(createHash('sha256').update(bytes).digest('hex'));
  });
});

describe('StructureCheck', () => {
  it('passes a well-formed file and refuses one that carries more, with the error built from the walker\'s reason', () => {
    const onMalformed = (reason: string): Error => new Error(`malformed: ${reason}`);
    const good = new StructureCheck(structureWalkerFor('image/png'), onMalformed);
    for (const piece of piecesOf(sample('sample.png'), 100)) expect(good.inspect(piece)).toBeUndefined();
    expect(good.finish()).toBeUndefined();

    const polyglot = new StructureCheck(structureWalkerFor('image/png'), onMalformed);
    const reasons = piecesOf(Buffer.concat([sample('sample.png'), html]), 100).map((piece) => polyglot.inspect(piece));
    expect(reasons.find((reason) => reason !== undefined)?.message).toMatch(/^malformed: PNG/);
  });

  it('refuses a file that ends mid-structure when it ends', () => {
    const check = new StructureCheck(structureWalkerFor('image/png'), (reason) => new Error(reason));
    expect(check.inspect(sample('sample.png').subarray(0, 100))).toBeUndefined();
    expect(check.finish()).toBeInstanceOf(Error);
  });
});

describe('InspectedStream', () => {
  it('passes the bytes unchanged while every inspector sees every chunk, in order', async () => {
    const bytes = Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 7));
    const first = new Witness();
    const second = new Witness();
    const out = await collect(Readable.from(piecesOf(bytes, 1000)).pipe(new InspectedStream([first, second])));
    expect(out.equals(bytes)).toBe(true);
    expect([first.seen, second.seen]).toEqual([[1000, 1000, 1000, 1000, 1000], [1000, 1000, 1000, 1000, 1000]]);
    expect([first.finished, second.finished]).toEqual([true, true]);
  });

  it('fails with the first refusal, and no later inspector sees the refused chunk', async () => {
    const after = new Witness();
    const stream = new InspectedStream([new ByteBudget(1500, () => new Error('over')), after]);
    await expect(pipeline(Readable.from(piecesOf(Buffer.alloc(3000), 1000)), stream, new PassThrough().resume())).rejects.toThrow('over');
    expect(after.seen).toEqual([1000]);
    expect(after.finished).toBe(false);
  });

  it('fails at the end when an inspector refuses how the file ended', async () => {
    const truncated = new StructureCheck(structureWalkerFor('image/png'), (reason) => new Error(`malformed: ${reason}`));
    const stream = new InspectedStream([truncated]);
    await expect(pipeline(Readable.from([sample('sample.png').subarray(0, 200)]), stream, new PassThrough().resume())).rejects.toThrow(/^malformed/);
  });
});

describe('HeldEnd', () => {
  it('keeps the readable side open after the last byte until released, and says when every byte has passed', async () => {
    let written = false;
    const heldEnd = new HeldEnd(() => {
      written = true;
    });
    const stream = new InspectedStream([], { heldEnd });
    const out = collect(stream);
    let ended = false;
    stream.once('end', () => {
      ended = true;
    });
    stream.end(Buffer.from('every byte'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([written, ended]).toEqual([true, false]);
    heldEnd.release();
    expect((await out).toString()).toBe('every byte');
    expect(ended).toBe(true);
  });

  it('ends at once when released before the last byte', async () => {
    let written = false;
    const heldEnd = new HeldEnd(() => {
      written = true;
    });
    heldEnd.release();
    const stream = new InspectedStream([], { heldEnd });
    const out = collect(stream);
    stream.end(Buffer.from('x'));
    expect((await out).toString()).toBe('x');
    expect(written).toBe(false);
  });

  it('does not release the end of a file an inspector refused at its end', async () => {
    const heldEnd = new HeldEnd(() => undefined);
    const refuseAtEnd: ChunkInspector = { inspect: () => undefined, finish: () => new Error('refused at the end') };
    const stream = new InspectedStream([refuseAtEnd], { heldEnd });
    await expect(pipeline(Readable.from([Buffer.from('abc')]), stream, new PassThrough().resume())).rejects.toThrow('refused at the end');
  });
});
