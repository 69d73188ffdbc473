import openApiDocument from '../../src/http/openapi.json';
import { documentationFiles, readDoc, withoutCodeBlocks } from './support/markdown';

/**
 * Every asset record the documentation shows (an example answer, or the field list) has exactly the
 * fields of the record the proxy answers with, as the OpenAPI document's AssetRecord lists them: an
 * example of an older shape fails here.
 */
const schemas = (openApiDocument as unknown as { components: { schemas: Record<string, { properties?: object; required?: string[] }> } })
  .components.schemas;
const RECORD_FIELDS = Object.keys(schemas.AssetRecord!.properties ?? {}).sort();

/** The field names of every `{…}` in the documentation that mentions file_type, by page. */
function recordExamples(): Array<{ file: string; fields: string[] }> {
  return documentationFiles().flatMap((file) =>
    [...readDoc(file).matchAll(/\{[^{}]*\bfile_type\b[^{}]*\}/g)].map((match) => {
      const quoted = [...match[0].matchAll(/"(\w+)"\s*:/g)].map((key) => key[1]!);
      // The README's field list: {id, file_type, url, …}.
      const fields = quoted.length > 0 ? quoted : match[0].slice(1, -1).split(',').map((name) => name.trim());
      return { file, fields: fields.sort() };
    }),
  );
}

it('knows the record and finds the examples', () => {
  expect(RECORD_FIELDS).toEqual([...(schemas.AssetRecord!.required ?? [])].sort());
  expect(RECORD_FIELDS.length).toBeGreaterThan(5);
  expect(recordExamples().length).toBeGreaterThanOrEqual(4);
});

it('shows every record with exactly the fields of the AssetRecord', () => {
  const wrong = recordExamples().filter(({ fields }) => fields.join() !== RECORD_FIELDS.join());
  expect(wrong).toEqual([]);
});

it("lists exactly the record's fields in api.md's field table", () => {
  const section = /^## The asset record\n([\s\S]*?)^## /m.exec(withoutCodeBlocks(readDoc('docs/api.md')))?.[1] ?? '';
  const rows = [...section.matchAll(/^\| `(\w+)` \|/gm)].map((row) => row[1]!);
  expect(rows.sort()).toEqual(RECORD_FIELDS);
});
