import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import openApiDocument from '../../src/http/openapi.json';

/** The document as the proxy serves it (src/http/openapi.json). */
export const OPENAPI_PATH = join(__dirname, '..', '..', 'src', 'http', 'openapi.json');

type Json = Record<string, unknown>;
interface ResponseSpec {
  readonly description: string;
  readonly headers?: Record<string, { $ref?: string; required?: boolean; schema?: Json }>;
  readonly content?: Record<string, { schema: Json }>;
}

/** What a test got back: supertest's and fetch-turned-plain responses both fit. */
export interface ObservedResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body?: unknown;
  readonly text?: string;
}

const document = openApiDocument as unknown as Json;
const components = document.components as { responses: Record<string, unknown> };
const DOCUMENT_ID = 'https://heygen-upload-proxy.local/openapi.json';

// OpenAPI 3.1 schemas are JSON Schema 2020-12. The whole document is added once, so that a
// response's schema is compiled by JSON pointer and its $refs resolve within the document; strict
// mode is off because the document's other members (paths, info) are not schema keywords.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(document, DOCUMENT_ID);

function pointerTo(...tokens: string[]): string {
  return tokens.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

function resolve<T>(value: T | { $ref: string }): T {
  if (typeof value === 'object' && value !== null && '$ref' in value) {
    const tokens = value.$ref.replace(/^#\//, '').split('/');
    let target: unknown = document;
    for (const token of tokens) target = (target as Json)[token.replaceAll('~1', '/').replaceAll('~0', '~')];
    if (target === undefined) throw new Error(`the document has no ${value.$ref}`);
    return resolve(target as T | { $ref: string });
  }
  return value;
}

function validatorFor(pointer: string): ValidateFunction {
  const validate = ajv.getSchema(`${DOCUMENT_ID}#/${pointer}`);
  if (validate === undefined) throw new Error(`the document has no schema at ${pointer}`);
  return validate;
}

/**
 * Which response the document promises for this method, path and status. A path not in the
 * document is answered by components.responses.NotFound, a method not in a listed path by
 * components.responses.MethodNotAllowed (the document's description says so).
 */
function responseSpecFor(method: string, path: string, status: number): { spec: ResponseSpec; pointer: string } {
  const paths = document.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
  const item = paths[path];
  if (item === undefined) {
    if (status !== 404) throw new Error(`${path} is not in the document, so only its 404 is; got ${status}`);
    return { spec: resolve(components.responses.NotFound) as ResponseSpec, pointer: 'components/responses/NotFound' };
  }
  const operation = item[method.toLowerCase()];
  if (operation === undefined) {
    if (status !== 405) throw new Error(`${method} ${path} is not in the document, so only its 405 is; got ${status}`);
    return { spec: resolve(components.responses.MethodNotAllowed) as ResponseSpec, pointer: 'components/responses/MethodNotAllowed' };
  }
  const declared = operation.responses[String(status)];
  if (declared === undefined) {
    throw new Error(`${method} ${path} answered ${status}, which the document does not list (it lists ${Object.keys(operation.responses).join(', ')})`);
  }
  const ref = (declared as { $ref?: string }).$ref;
  const pointer = ref !== undefined ? ref.replace(/^#\//, '') : pointerTo('paths', path, method.toLowerCase(), 'responses', String(status));
  return { spec: resolve(declared as ResponseSpec), pointer };
}

function headerValue(response: ObservedResponse, name: string): string | undefined {
  const value = response.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Fails (with every mismatch named) unless `response` is what the OpenAPI document promises for
 * `method` `path`: a status it lists, its media type, a body valid against its schema, every
 * header it marks required, and every header it names matching that header's schema.
 */
export function expectMatchesOpenApi(method: string, path: string, response: ObservedResponse): void {
  const { spec, pointer } = responseSpecFor(method, path, response.status);
  const problems: string[] = [];

  const contentType = headerValue(response, 'content-type')?.split(';')[0]?.trim();
  const mediaTypes = Object.keys(spec.content ?? {});
  if (mediaTypes.length > 0 && (contentType === undefined || !mediaTypes.includes(contentType))) {
    problems.push(`content-type ${contentType ?? '(none)'} is not one of ${mediaTypes.join(', ')}`);
  } else if (contentType !== undefined && spec.content?.[contentType] !== undefined) {
    const validate = validatorFor(`${pointer}/content/${pointerTo(contentType)}/schema`);
    const body = contentType === 'application/json' ? response.body : (response.text ?? response.body);
    if (!validate(body)) problems.push(`body: ${ajv.errorsText(validate.errors, { dataVar: 'body' })}`);
  }

  for (const [name, declared] of Object.entries(spec.headers ?? {})) {
    const header = resolve(declared) as { required?: boolean; schema?: Json };
    const value = headerValue(response, name);
    if (value === undefined) {
      if (header.required === true) problems.push(`required header ${name} is missing`);
      continue;
    }
    if (header.schema !== undefined) {
      const validate = ajv.compile(header.schema);
      if (!validate(value)) problems.push(`header ${name}: ${ajv.errorsText(validate.errors, { dataVar: name })}`);
    }
  }

  if (problems.length > 0) {
    throw new Error(`${method} ${path} → ${response.status} does not match the OpenAPI document (${pointer}):\n  ${problems.join('\n  ')}`);
  }
}

/**
 * Validates the document with @seriousme/openapi-schema-validator (OpenAPI 3.0/3.1/3.2 against the
 * official schemas). The package is ESM-only and reads its schemas relative to import.meta.url,
 * which jest's CommonJS runtime cannot give it, so it runs in a plain Node child process.
 */
export async function validateOpenApiDocument(path: string): Promise<{ valid: boolean; version: string; errors: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    const validator = new Validator();
    const result = await validator.validate(process.argv[1]);
    process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? null }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, path], {
    cwd: join(__dirname, '..', '..'),
  });
  return JSON.parse(stdout) as { valid: boolean; version: string; errors: unknown };
}
