import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

/**
 * Validation of custom resources (Gateway API routes, Envoy Gateway and NGINX Gateway Fabric
 * policies) against the CRDs vendored in test/deploy/schemas/ (README there names each release).
 * kubernetes-models does not know these kinds; the CRD's own openAPIV3Schema is what the API server
 * would check them against.
 */

export const SCHEMAS_DIR = path.join(__dirname, '..', 'schemas');

type Schema = Record<string, unknown>;

interface CrdVersion {
  readonly name: string;
  readonly served?: boolean;
  readonly schema?: { openAPIV3Schema?: Schema };
}

interface Crd {
  readonly kind: string;
  readonly spec: { group: string; names: { kind: string }; versions: CrdVersion[] };
}

/** The schema as the API server applies it: an object schema that lists its properties is closed. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // Property names are data, not schemas: keep the map, close each schema in it.
    copy[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as Schema).map(([name, sub]) => [name, closeObjects(sub)])) : closeObjects(value);
  }
  // The API server prunes fields a structural schema does not list (silently: a typo's value is
  // just gone). Here they are errors instead, unless the schema keeps unknown fields on purpose.
  if (copy.properties !== undefined && copy.additionalProperties === undefined && copy['x-kubernetes-preserve-unknown-fields'] !== true) {
    copy.additionalProperties = false;
  }
  return copy;
}

function createAjv(): Ajv {
  // strict off: the x-kubernetes-* extensions are not JSON Schema keywords.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  return ajv;
}

export interface CrdValidator {
  /** apiVersion/kind keys of every served version of every vendored CRD. */
  readonly kinds: readonly string[];
  /** The schema's complaints about an object ([] when valid); throws for a kind with no vendored CRD. */
  errors(object: Record<string, unknown>): string[];
}

function describe(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})` : '';
    return `${e.instancePath || '/'} ${e.message ?? e.keyword}${extra}`;
  });
}

/** Compiles every served version of every CRD under test/deploy/schemas/ (once per test file). */
export function loadCrdValidator(dir: string = SCHEMAS_DIR): CrdValidator {
  const ajv = createAjv();
  const validators = new Map<string, ValidateFunction>();
  for (const folder of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    for (const file of readdirSync(path.join(dir, folder.name)).filter((f) => f.endsWith('.yaml'))) {
      const source = `${folder.name}/${file}`;
      for (const doc of parseAllDocuments(readFileSync(path.join(dir, folder.name, file), 'utf8'))) {
        if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
        const crd = doc.toJS() as Crd | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        for (const version of crd.spec.versions) {
          const schema = version.schema?.openAPIV3Schema;
          if (version.served === false || !schema) continue;
          validators.set(`${crd.spec.group}/${version.name}/${crd.spec.names.kind}`, ajv.compile(closeObjects(schema) as Schema));
        }
      }
    }
  }
  if (validators.size === 0) throw new Error(`no CRD found under ${dir}`);
  return {
    kinds: [...validators.keys()].sort(),
    errors(object) {
      const key = `${String(object.apiVersion)}/${String(object.kind)}`;
      const validate = validators.get(key);
      if (!validate) throw new Error(`no vendored CRD schema for ${key} (test/deploy/schemas/)`);
      return validate(object) ? [] : describe(validate.errors);
    },
  };
}
