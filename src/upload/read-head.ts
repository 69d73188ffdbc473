import { Readable } from 'node:stream';

export interface StreamHead {
  /** Up to `size` leading bytes (fewer only when the stream ended first). */
  readonly head: Buffer;
  /** The whole stream again, head included, ready to be consumed from its first byte. */
  readonly stream: Readable;
}

/**
 * Reads the first `size` bytes of a stream without losing them: the multer-s3 autoContentType move.
 * Instead of replaying through an extra PassThrough, the bytes are unshifted back onto the source,
 * so the rest of the file flows from the parser without another copy or hop.
 */
export function readHead(source: Readable, size: number): Promise<StreamHead> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;

    const cleanup = (): void => {
      source.off('readable', onReadable);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onClose);
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while (length < size && (chunk = source.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= size) {
        cleanup();
        // Usually the first read already holds the head: put that chunk back as it is, uncopied.
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        source.unshift(head);
        resolve({ head: head.subarray(0, size), stream: source });
      }
    };
    const onEnd = (): void => {
      cleanup();
      const head = Buffer.concat(chunks, length);
      resolve({ head, stream: Readable.from(length > 0 ? [head] : []) });
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('The file stream closed before its first bytes arrived'));
    };

    source.on('readable', onReadable);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onClose);
  });
}
