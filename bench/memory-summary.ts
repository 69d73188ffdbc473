import fs from 'node:fs';
import path from 'node:path';

/** What bench/servers/memory-sampler.ts writes: bytes, at the highest VmRSS it sampled. */
interface MemorySample {
  readonly rss: number;
  readonly file: number;
  readonly anon: number;
  readonly newSpace: number;
  readonly oldSpace: number;
  readonly otherHeap: number;
  readonly arrayBuffers: number;
  readonly external: number;
}

const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/**
 * One row per server of a `--memory-profile` run: its sampled peak split into file-backed pages,
 * V8's young generation, the rest of V8's heap, the Buffers outside the heap, and the other anonymous
 * memory (malloc'd by Node, V8's compiler and libuv; freed Buffers malloc has kept).
 */
export function summariseMemory(sampleDir: string): string {
  const files = fs.readdirSync(sampleDir).filter((name) => name.endsWith('.json')).sort();
  const rows = files.map((name) => {
    const sample = JSON.parse(fs.readFileSync(path.join(sampleDir, name), 'utf8')) as MemorySample;
    const other = sample.anon - sample.newSpace - sample.oldSpace - sample.otherHeap - sample.external;
    return `| ${name.replace(/\.json$/, '')} | ${mb(sample.rss)} | ${mb(sample.file)} | ${mb(sample.newSpace)} | ${mb(sample.oldSpace + sample.otherHeap)} | ${mb(sample.external)} (${mb(sample.arrayBuffers)}) | ${mb(other)} |`;
  });
  return [
    '| scenario-server | sampled peak RSS | file-backed | V8 young generation | rest of V8 heap | outside the heap (of it ArrayBuffers) | other anonymous |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
}
