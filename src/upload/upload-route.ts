import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../errors';
import { contextOf } from '../http/request-context';
import type { UploadParser } from './upload-parser';

/**
 * POST /v1/asset, once every edge check has passed: parse the form (the storage engine checks the
 * file and readies it), send it to HeyGen, answer 201 with the trimmed asset record.
 */
export function uploadHandler(parse: UploadParser): RequestHandler {
  return async (req: Request, res: Response) => {
    const context = contextOf(res);
    const file = await parse(req, res);
    const prepared = file?.prepared;
    if (prepared === undefined) throw new ApiError('MISSING_FILE');
    context.mediaType = prepared.mediaType;
    context.bytes = prepared.size;
    try {
      const asset = await prepared.send();
      res.status(201).json(asset);
    } finally {
      await prepared.dispose();
    }
  };
}
