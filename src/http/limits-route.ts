import type { RequestHandler } from 'express';
import type { MediaLimits } from '../upload/media-types';
import { ALLOWED_MEDIA_TYPES } from '../upload/media-types';

/**
 * GET /v1/limits: the allowed types and the size limit of each, so a client can check a file before
 * sending it.
 */
export function limitsHandler(maxBytes: MediaLimits): RequestHandler {
  const body = {
    types: Object.entries(ALLOWED_MEDIA_TYPES).map(([mediaType, kind]) => ({
      media_type: mediaType,
      kind,
      max_bytes: maxBytes[kind],
    })),
    max_bytes: { ...maxBytes },
    field_name: 'file',
  };
  return (_req, res) => {
    res.json(body);
  };
}
