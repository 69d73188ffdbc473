import { type Duplex, finished, type Readable, type Writable } from 'node:stream';

/**
 * `source → …through → sink`, with the guarantees of stream.pipeline that the upload path relies on:
 * an error or a premature close anywhere destroys every stream and rejects once; success resolves
 * once the sink has finished.
 *
 * Not stream.pipeline itself: on Node 20 it creates an AbortSignal and, when the sink finishes first,
 * ERR_STREAM_DESTROYED errors (each capturing a stack trace) on every call, even a successful one.
 * This keeps to pipe() and finished().
 */
export function pump(source: Readable, ...rest: [...Duplex[], Writable]): Promise<void> {
  const streams: (Readable | Writable)[] = [source, ...rest];
  return new Promise((resolve, reject) => {
    let settled = false;
    const stopWatching: (() => void)[] = [];
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      if (error === undefined) {
        for (const stop of stopWatching) stop();
        resolve();
        return;
      }
      // The watchers stay on: an 'error' a stream emits while being destroyed lands on them and is
      // ignored (the first error is the answer), rather than going unhandled. Destroyed without the
      // error, like pipeline's bystanders, so no stream gets an 'error' nobody is listening for.
      for (const stream of streams) stream.destroy();
      reject(error);
    };
    const sink = streams[streams.length - 1]!;
    for (const [index, stream] of streams.entries()) {
      stopWatching.push(finished(stream, (error) => (error ? settle(error) : stream === sink ? settle() : undefined)));
      const next = streams[index + 1];
      if (next !== undefined) (stream as Readable).pipe(next as Writable);
    }
  });
}
