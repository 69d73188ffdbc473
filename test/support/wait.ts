import { watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import type { EventEmitter } from 'node:events';

/** Resolves with the first event `name` whose payload passes `accept`; fails after `timeoutMs`. */
export function nextEvent<T>(emitter: EventEmitter, name: string, accept: (value: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, onEvent);
      reject(new Error(`no '${name}' event within ${timeoutMs} ms`));
    }, timeoutMs);
    const onEvent = (value: T): void => {
      if (!accept(value)) return;
      clearTimeout(timer);
      emitter.off(name, onEvent);
      resolve(value);
    };
    emitter.on(name, onEvent);
  });
}

/**
 * Resolves once `predicate(entries of dir)` holds, re-checking whenever the directory changes
 * (fs.watch), so tests wait on the file system's own events rather than on sleeps.
 */
export function waitForDirectory(dir: string, predicate: (entries: string[]) => boolean, timeoutMs = 10_000): Promise<string[]> {
  return waitForPath(dir, () => readdir(dir), predicate, (entries) => `directory ${dir} never matched; it holds ${entries.join(', ') || 'nothing'}`, timeoutMs);
}

/**
 * Reads `path` (a file or a directory) until `accept` takes what was read, reading again on each of
 * its change events (fs.watch); fails with `failure(last read)` after `timeoutMs`.
 */
export async function waitForPath<T>(path: string, read: () => Promise<T>, accept: (value: T) => boolean, failure: (last: T) => string, timeoutMs = 10_000): Promise<T> {
  const watcher = watch(path);
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(failure(value));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        watcher.once('change', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  } finally {
    watcher.close();
  }
}
