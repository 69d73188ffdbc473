import { Writable } from 'node:stream';

/** Collects every log line the app writes, to assert on what operators would see. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    const lines = chunk.toString('utf8').split('\n').filter((line) => line.length > 0);
    this.lines.push(...lines);
    for (const line of lines) this.emit('line', JSON.parse(line) as Record<string, unknown>);
    callback();
  }

  /**
   * The first entry, already written or still to come, that passes `accept`. A request's line is
   * written when its response closes, which can be a moment after the client has read the answer.
   */
  waitForEntry(accept: (entry: Record<string, unknown>) => boolean, timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const written = this.entries().find(accept);
    if (written !== undefined) return Promise.resolve(written);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('line', onLine);
        reject(new Error(`no matching log line within ${timeoutMs} ms`));
      }, timeoutMs);
      const onLine = (entry: Record<string, unknown>): void => {
        if (!accept(entry)) return;
        clearTimeout(timer);
        this.off('line', onLine);
        resolve(entry);
      };
      this.on('line', onLine);
    });
  }

  get text(): string {
    return this.lines.join('\n');
  }

  entries(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}
