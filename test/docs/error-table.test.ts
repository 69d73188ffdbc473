import { ERROR_CATALOGUE } from '../../src/errors';
import openApiDocument from '../../src/http/openapi.json';
import { documentationFiles, readDoc, withoutCodeBlocks } from './support/markdown';

/**
 * docs/api.md holds the one table of error codes. Its (code, status) rows must be exactly the error
 * catalogue's (src/errors.ts) and exactly the pairs the OpenAPI document (src/http/openapi.json)
 * promises: a code missing from any of the three, one too many, or one under another status fails.
 */
const TABLE_PAGE = 'docs/api.md';

/** `| `CODE` | 413 | …` rows of the error table, as "413 CODE". */
function tableRows(text: string): string[] {
  const section = /^## Errors\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(withoutCodeBlocks(text));
  if (!section) throw new Error(`${TABLE_PAGE} has no "## Errors" section`);
  return [...section[1]!.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(\d{3})\s*\|/gm)].map((row) => `${row[2]} ${row[1]}`);
}

function cataloguePairs(): string[] {
  return Object.entries(ERROR_CATALOGUE).map(([code, { status }]) => `${status} ${code}`);
}

interface ErrorSchema {
  allOf?: Array<{ properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }>;
}
const document = openApiDocument as unknown as {
  paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string }> }>>;
  components: {
    schemas: Record<string, ErrorSchema>;
    responses: Record<string, { content?: { 'application/json'?: { schema?: { $ref?: string } } } }>;
  };
};

/** Every (status, code) pair the OpenAPI document promises, over every operation and shared response. */
function openApiPairs(): string[] {
  const pairs = new Set<string>();
  const add = (status: string, ref: string | undefined): void => {
    if (ref === undefined || !/^\d{3}$/.test(status) || Number(status) < 400) return;
    const response = document.components.responses[ref.replace('#/components/responses/', '')];
    const schemaRef = response?.content?.['application/json']?.schema?.$ref;
    const schema = schemaRef === undefined ? undefined : document.components.schemas[schemaRef.replace('#/components/schemas/', '')];
    for (const part of schema?.allOf ?? []) {
      for (const code of part.properties?.error?.properties?.code?.enum ?? []) pairs.add(`${status} ${code}`);
    }
  };
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) add(status, response.$ref);
    }
  }
  for (const [status, name] of [['404', 'NotFound'], ['405', 'MethodNotAllowed']] as const) add(status, `#/components/responses/${name}`);
  return [...pairs];
}

const sorted = (values: Iterable<string>): string[] => [...values].sort();

it('reads the table, the catalogue and the API document', () => {
  // Parsers that found nothing would make the comparisons below vacuous.
  expect(tableRows(readDoc(TABLE_PAGE)).length).toBeGreaterThan(40);
  expect(cataloguePairs().length).toBeGreaterThan(40);
  expect(openApiPairs().length).toBeGreaterThan(40);
});

it('lists each code once', () => {
  const codes = tableRows(readDoc(TABLE_PAGE)).map((row) => row.split(' ')[1]!);
  expect(codes.filter((code, index) => codes.indexOf(code) !== index)).toEqual([]);
});

it("has exactly the catalogue's codes, each with its catalogue status", () => {
  expect(sorted(tableRows(readDoc(TABLE_PAGE)))).toEqual(sorted(cataloguePairs()));
});

it('has exactly the codes and statuses the OpenAPI document gives', () => {
  expect(sorted(tableRows(readDoc(TABLE_PAGE)))).toEqual(sorted(openApiPairs()));
});

it('is the only error table in the documentation', () => {
  // A second table of codes and statuses is how the two tables came to disagree.
  const header = /^\|[^\n]*\bcodes?\b[^\n]*\|[^\n]*\bstatus\b|^\|[^\n]*\bstatus\b[^\n]*\|[^\n]*\bcodes?\b/gim;
  const tables = documentationFiles().flatMap((file) =>
    [...withoutCodeBlocks(readDoc(file)).matchAll(header)].map((match) => `${file}: ${match[0]}`),
  );
  expect(tables).toEqual([expect.stringMatching(/^docs\/api\.md: /)]);
});
