import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { PreparedUpload } from '../../upload/prepared-upload';
import { assertUploadCore, prepareUpload, type UploadCore } from '../../upload/prepare-upload';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-namespace
    namespace Multer {
      interface File {
        /** Set by PreparingStorage: the checked file, ready to send. */
        prepared?: PreparedUpload;
      }
    }
  }
}

/**
 * multer's StorageEngine whose destination is the upload core (the multer-s3 pattern): each file part
 * is handed to prepareUpload, which checks it and readies it for HeyGen; `_removeFile` undoes that.
 */
export class PreparingStorage implements StorageEngine {
  readonly #core: UploadCore;
  readonly #onRefusal: ((req: Request, error: unknown) => void) | undefined;

  /** `onRefusal` is told at once when a file is refused, so the answer need not wait for the rest of the body. */
  constructor(core: UploadCore, onRefusal?: (req: Request, error: unknown) => void) {
    assertUploadCore(core);
    this.#core = core;
    this.#onRefusal = onRefusal;
  }

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    prepareUpload(this.#core, { stream: file.stream, declaredType: file.mimetype }).then(
      (prepared) => callback(null, { size: prepared.size, prepared }),
      (error: unknown) => {
        this.#onRefusal?.(req, error);
        callback(error);
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    (file.prepared?.dispose() ?? Promise.resolve()).then(
      () => callback(null),
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
    );
  }
}
