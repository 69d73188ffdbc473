import type { Response } from 'express';
import { contextOf } from '../request-context';

/**
 * Runs `release` once the response has closed and the upload handler, if one started, has finished.
 * A client may leave while its spooled file is still going to HeyGen; the work goes on (and its
 * result is recorded for the client's retry), so the slot or lease it holds must not be freed yet,
 * or a client could start any number of uploads by hanging up after each body.
 */
export function whenUploadEnds(res: Response, release: () => void): void {
  res.once('close', () => {
    const settled = contextOf(res).uploadSettled;
    if (settled === undefined) release();
    else void settled.then(release, release);
  });
}
