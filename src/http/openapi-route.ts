import type { RequestHandler } from 'express';
import type OpenApiDocument from './openapi.json';

/**
 * GET /openapi.json: the OpenAPI 3.1 document of this API (src/http/openapi.json), for client
 * generators. Tests keep it true: it validates as OpenAPI 3.1, lists every catalogue code with its
 * status, and real responses match its schemas.
 */
export function openApiHandler(): RequestHandler {
  // Loaded and serialised on the first request, not at start: few replicas are ever asked for it
  // (bench/idle-footprint.md), and the document never changes while the process runs. The type-only
  // import above keeps the file in tsc's program (resolveJsonModule), so the build copies it into
  // dist/http/ beside this file, where the production build and the image find it.
  let body: string | undefined;
  return (_req, res) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    body ??= JSON.stringify(require('./openapi.json') as typeof OpenApiDocument);
    res.type('application/json').send(body);
  };
}
