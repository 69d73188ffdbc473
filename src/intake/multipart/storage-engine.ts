import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { PreparedUpload } from '../../upload/prepared-upload';
import { prepareUpload, type UploadIntent, type UploadSettings } from '../../upload/prepare-upload';

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
  readonly #settings: UploadSettings;
  readonly #intentOf: (req: Request) => UploadIntent | undefined;
  readonly #onRefusal: ((req: Request, error: unknown) => void) | undefined;

  /**
   * `intentOf` gives what the edge decided for this request (the upstream idempotency key, whether to
   * hash, forward or only fingerprint); `onRefusal` is told at once when a file is refused, so the
   * answer need not wait for the rest of the body.
   */
  constructor(settings: UploadSettings, intentOf: (req: Request) => UploadIntent | undefined, onRefusal?: (req: Request, error: unknown) => void) {
    this.#settings = settings;
    this.#intentOf = intentOf;
    this.#onRefusal = onRefusal;
  }

  _handleFile(
    req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<Express.Multer.File>) => void,
  ): void {
    const intent = this.#intentOf(req);
    const prepared =
      intent === undefined
        ? Promise.reject(new Error('PreparingStorage: no upload intent for this request'))
        : prepareUpload(this.#settings, { stream: file.stream, declaredType: file.mimetype, declaredName: file.originalname }, intent);
    prepared.then(
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
