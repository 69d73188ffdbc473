import type { RequestHandler } from 'express';
// Imported, not read at start: tsc (resolveJsonModule) then copies it into dist/http/, so the
// production build and the image (which builds from src/) ship it with no extra step.
import openApiDocument from './openapi.json';

/**
 * GET /openapi.json: the OpenAPI 3.1 document of this API (src/http/openapi.json), for client
 * generators. Tests keep it true: it validates as OpenAPI 3.1, lists every catalogue code with its
 * status, and real responses match its schemas.
 */
export function openApiHandler(): RequestHandler {
  // Serialised once: the document never changes while the process runs.
  const body = JSON.stringify(openApiDocument);
  return (_req, res) => {
    res.type('application/json').send(body);
  };
}
