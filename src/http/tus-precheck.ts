import type { RequestHandler } from 'express';
import { Metadata } from '@tus/utils';
import { ApiError } from '../errors';
import { declaredFileOf } from '../intake/resumable/declared-file';
import { admitDeclared } from '../upload/admission';
import type { MediaLimits } from '../upload/media-types';

/** A whole, non-negative decimal number, as tus requires of Upload-Length. */
const LENGTH = /^\d+$/;

/**
 * A tus request's refusals that need only its headers, before `100 Continue` and before a byte is
 * stored: the protocol version, and for a creation the declared length and type (admitDeclared, the
 * rule /v1/asset's files meet too). Malformed metadata is left to tus, which answers it in its words.
 */
export function tusPrecheck(maxBytes: MediaLimits): RequestHandler {
  return (req, _res, next) => {
    if (req.get('tus-resumable') === undefined) {
      next(new ApiError('TUS_RESUMABLE_REQUIRED'));
      return;
    }
    if (req.method !== 'POST') {
      next();
      return;
    }
    const length = req.get('upload-length');
    if (length === undefined || !LENGTH.test(length)) {
      next(length === undefined ? new ApiError('UPLOAD_LENGTH_REQUIRED') : undefined);
      return;
    }
    const header = req.get('upload-metadata') ?? '';
    let metadata: ReturnType<typeof Metadata.parse> = {};
    try {
      // tus's own parser, which refuses an empty header: no metadata is no declaration.
      if (header.trim() !== '') metadata = Metadata.parse(header);
    } catch {
      next();
      return;
    }
    try {
      admitDeclared({ declaredType: declaredFileOf(metadata).declaredType, length: Number(length) }, maxBytes);
      next();
    } catch (error) {
      next(error);
    }
  };
}
