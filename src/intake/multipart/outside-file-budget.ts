import type { IncomingMessage } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { ApiError } from '../../errors';

/**
 * Counts the body bytes that arrive while no file part is open and refuses the form once they pass
 * `budget`: with no file part yet, 400 MISSING_FILE (it cannot become a legal upload, however much
 * more arrives); after one, 400 MALFORMED_MULTIPART. busboy drops a preamble or epilogue of any size
 * and reads a field value to its end before reporting it too long, so without this a chunked body
 * that never opens a file part would be read to its end (a gigabyte, at the client's pace) before its 400.
 *
 * The refusal destroys busboy with the error, so it takes the path busboy's own limit errors take.
 * The 'data' listener is added after `req.pipe(busboy)`, so busboy has parsed each chunk (and opened
 * any file part in it) before the chunk is counted; the cost is one addition per chunk.
 */
export function limitBytesOutsideFile(req: IncomingMessage, busboy: Writable, budget: number): void {
  let outside = 0;
  let openFiles = 0;
  let sawFile = false;
  const onFile = (_field: string, stream: Readable): void => {
    openFiles += 1;
    sawFile = true;
    let closed = false;
    const onClosed = (): void => {
      if (closed) return;
      closed = true;
      openFiles -= 1;
    };
    stream.once('end', onClosed);
    stream.once('close', onClosed);
  };
  const stop = (): void => {
    req.off('data', onData);
    busboy.off('file', onFile);
  };
  const onData = (chunk: Buffer): void => {
    if (openFiles > 0) return;
    outside += chunk.length;
    if (outside <= budget) return;
    stop();
    // Through busboy, as its own limits are: multer then removes a file already prepared (its spool)
    // and the parser settles on busboy's 'error' at once.
    busboy.destroy(
      sawFile
        ? new ApiError('MALFORMED_MULTIPART', 'The form carries too much besides its file.')
        : new ApiError('MISSING_FILE', 'No file part named "file" came within the start of the form.'),
    );
  };
  busboy.on('file', onFile);
  req.on('data', onData);
  req.once('end', stop);
  req.once('close', stop);
}
