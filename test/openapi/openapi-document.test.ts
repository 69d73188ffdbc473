import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ERROR_CATALOGUE, type ErrorCode } from '../../src/errors';
import openApiDocument from '../../src/http/openapi.json';
import { OPENAPI_PATH, validateOpenApiDocument } from '../support/openapi';

/**
 * src/http/openapi.json is the proxy's published contract. These tests keep it valid and complete;
 * openapi-responses.test.ts keeps it true to what the proxy really answers.
 */
interface ErrorSchema {
  allOf?: Array<{ properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }>;
}
const document = openApiDocument as unknown as {
  paths: Record<string, Record<string, { responses: Record<string, { $ref?: string }> }>>;
  components: {
    schemas: Record<string, ErrorSchema & { enum?: string[] }>;
    responses: Record<string, { content: { 'application/json': { schema: { $ref: string } } } }>;
  };
};

/** The codes a response may carry, by the enum of its ErrorNNN schema. */
function codesOfResponse(ref: string): string[] {
  const response = document.components.responses[ref.replace('#/components/responses/', '')]!;
  const schema = document.components.schemas[response.content['application/json'].schema.$ref.replace('#/components/schemas/', '')]!;
  return schema.allOf?.flatMap((part) => part.properties?.error?.properties?.code?.enum ?? []) ?? [];
}

/** Every (status, code) pair the document promises somewhere, over every operation and shared response. */
function documentedPairs(): Set<string> {
  const pairs = new Set<string>();
  const add = (status: string, ref: string | undefined): void => {
    if (ref !== undefined) for (const code of codesOfResponse(ref)) pairs.add(`${status} ${code}`);
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation.responses)) add(status, response.$ref);
    }
  }
  add('404', '#/components/responses/NotFound');
  add('405', '#/components/responses/MethodNotAllowed');
  return pairs;
}

it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
  const result = await validateOpenApiDocument(OPENAPI_PATH);
  expect(result).toEqual({ valid: true, version: '3.1', errors: null });
});

it('lists every code of the error catalogue, each under its catalogue status', () => {
  // A code added to src/errors.ts fails here until the document lists it with its status.
  const pairs = documentedPairs();
  const missing = Object.entries(ERROR_CATALOGUE)
    .map(([code, { status }]) => `${status} ${code}`)
    .filter((pair) => !pairs.has(pair));
  expect(missing).toEqual([]);
  expect([...(document.components.schemas.ErrorCode!.enum ?? [])].sort()).toEqual(Object.keys(ERROR_CATALOGUE).sort());
});

it('lists no code the catalogue does not have, and none under another status', () => {
  const wrong = [...documentedPairs()].filter((pair) => {
    const [status, code] = pair.split(' ') as [string, string];
    return ERROR_CATALOGUE[code as ErrorCode]?.status !== Number(status);
  });
  expect(wrong).toEqual([]);
});

it('ships with the production build (tsc -p tsconfig.build.json, as the image builds it)', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'openapi-build-'));
  try {
    await promisify(execFile)(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', outDir], {
      cwd: join(__dirname, '..', '..'),
    });
    const shipped = JSON.parse(await readFile(join(outDir, 'http', 'openapi.json'), 'utf8')) as unknown;
    expect(shipped).toEqual(JSON.parse(await readFile(OPENAPI_PATH, 'utf8')));
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
  // A whole compile of src/: well over a typical test's time when the suite runs in parallel.
}, 120_000);
