import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import multer, { MulterError } from 'multer';
import { FILE_CHUNK_BYTES, FORM_LIMITS, OUTSIDE_FILE_BYTES_BUDGET } from './form-limits';
import { largestFileBytes } from '../../upload/media-types';
import type { UploadIntent, UploadSettings } from '../../upload/prepare-upload';
import { toUploadError } from './form-errors';
import { limitBytesOutsideFile } from './outside-file-budget';
import { PreparingStorage } from './storage-engine';

type Busboy = Writable;
type MulterOptionsWithStreamHandler = multer.Options & {
  streamHandler?: (req: IncomingMessage, busboy: Busboy) => void;
  fileHwm?: number;
};

export type UploadParser = (req: Request, res: Response, intent: UploadIntent) => Promise<Express.Multer.File | undefined>;

/**
 * Runs multer with PreparingStorage and settles as soon as the outcome is known. On an error multer
 * first reads the rest of the body to its end; the refusal is known earlier (from the storage
 * engine, or from busboy's limit and error events), so it settles then and the error handler
 * answers while the body is still arriving. Errors come out as catalogue ApiErrors.
 */
export function createMultipartParser(settings: UploadSettings): UploadParser {
  const pending = new WeakMap<IncomingMessage, (error: unknown) => void>();
  const refuseEarly = (req: IncomingMessage, error: unknown): void => pending.get(req)?.(error);
  const intents = new WeakMap<IncomingMessage, UploadIntent>();

  const storage = new PreparingStorage(settings, (req) => intents.get(req), refuseEarly);
  // busboy's own cap stays as a backstop; each type's tighter limit is enforced by the core.
  const fileSizeBackstop = largestFileBytes(settings.maxBytes) + 1;
  const options: MulterOptionsWithStreamHandler = {
    storage,
    limits: { ...FORM_LIMITS, fileSize: fileSizeBackstop },
    fileHwm: FILE_CHUNK_BYTES,
    // Browsers write the file name as raw UTF-8 in `filename="..."` (WHATWG's multipart encoding;
    // RFC 7578 forbids `filename*`). busboy reads such parameters as latin1 unless told otherwise.
    defParamCharset: 'utf8',
    streamHandler(req, busboy) {
      busboy.once('filesLimit', () => refuseEarly(req, new MulterError('LIMIT_FILE_COUNT')));
      busboy.once('partsLimit', () => refuseEarly(req, new MulterError('LIMIT_PART_COUNT')));
      busboy.once('fieldsLimit', () => refuseEarly(req, new MulterError('LIMIT_FIELD_COUNT')));
      busboy.once('error', (error: unknown) => refuseEarly(req, error));
      req.pipe(busboy);
      limitBytesOutsideFile(req, busboy, OUTSIDE_FILE_BYTES_BUDGET);
    },
  };
  const middleware: RequestHandler = multer(options).single('file');

  return (req, res, intent) =>
    new Promise((resolve, reject) => {
      intents.set(req, intent);
      const settle = (error?: unknown): void => {
        if (!pending.has(req)) return;
        pending.delete(req);
        if (error === undefined || error === null) resolve(req.file);
        else reject(toUploadError(error));
      };
      pending.set(req, settle);
      void middleware(req, res, settle);
    });
}
