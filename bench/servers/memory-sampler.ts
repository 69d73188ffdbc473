/**
 * Loaded into a benchmarked server with `node --require` when the run is `--memory-profile`: what its
 * resident memory is made of at its highest. Every 10 ms it reads VmRSS and, when that is a new
 * maximum, writes the breakdown to MEMORY_SAMPLE_FILE (overwritten: the file always holds the peak so
 * far, even if the process is killed). It is the highest over the process's life, where the harness
 * resets its peak before each repetition, so it can sit a little above the table's figure. The split: file-backed pages (the node binary and the shared
 * libraries, as far as the code that ran has touched them), anonymous pages, and within those V8's
 * heap spaces and the ArrayBuffers (Buffers) V8 holds outside its heap until a collection frees them.
 */
import fs from 'node:fs';
import v8 from 'node:v8';

const target = process.env.MEMORY_SAMPLE_FILE;
const SAMPLE_INTERVAL_MS = 10;

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match === null ? 0 : Number(match[1]);
}

if (target !== undefined) {
  let highest = 0;
  setInterval(() => {
    const status = fs.readFileSync('/proc/self/status', 'utf8');
    const rss = statusKb(status, 'VmRSS') * 1024;
    if (rss <= highest) return;
    highest = rss;
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((space) => [space.space_name, space.physical_space_size]));
    const { arrayBuffers, external } = process.memoryUsage();
    const sample = {
      rss,
      file: statusKb(status, 'RssFile') * 1024,
      anon: statusKb(status, 'RssAnon') * 1024,
      newSpace: (spaces.new_space ?? 0) + (spaces.new_large_object_space ?? 0),
      oldSpace: spaces.old_space ?? 0,
      // Every other space, by whatever name this V8 has (Node 22 and 24 add trusted and shared ones).
      otherHeap: Object.entries(spaces)
        .filter(([name]) => !['new_space', 'new_large_object_space', 'old_space'].includes(name))
        .reduce((sum, [, bytes]) => sum + bytes, 0),
      arrayBuffers,
      external,
    };
    fs.writeFileSync(target, JSON.stringify(sample));
  }, SAMPLE_INTERVAL_MS).unref();
}
