import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Ingress, NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { type CrdValidator, loadCrdValidator } from './crd-schemas';

export const REPO_ROOT = path.resolve(__dirname, '../../..');
export const K8S_DIR = path.join(REPO_ROOT, 'k8s');
/** What every way of deploying shares (k8s/kustomization.yaml renders it as it is). */
export const BASE_DIR = path.join(K8S_DIR, 'base');

export interface Manifest {
  readonly file: string;
  readonly object: Record<string, unknown>;
}

/** What a model class offers that the tests use: build from plain data, validate against the schema. */
interface ModelClass {
  new (data: never): { validate(): void };
}

// Every kind the manifests may hold. A kind missing here fails validation rather than slipping by.
export const MODELS: Readonly<Record<string, ModelClass>> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses every YAML document of a text; throws on the first syntax error, naming the source. */
export function parseYamlDocuments(text: string, source: string): Record<string, unknown>[] {
  return parseAllDocuments(text).flatMap((doc, index) => {
    if (doc.errors.length > 0) {
      throw new Error(`${source}, document ${index + 1}: ${doc.errors.map((e) => e.message).join('; ')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return [];
    if (!isMapping(value)) throw new Error(`${source}, document ${index + 1}: not a mapping`);
    return [value];
  });
}

/** k8s/base/kustomization.yaml. */
export function readKustomization(): { resources: string[] } & Record<string, unknown> {
  const [doc] = parseYamlDocuments(readFileSync(path.join(BASE_DIR, 'kustomization.yaml'), 'utf8'), 'base/kustomization.yaml');
  if (!doc || !Array.isArray(doc.resources)) throw new Error('base/kustomization.yaml has no resources list');
  return doc as { resources: string[] } & Record<string, unknown>;
}

export function yamlFilesInBaseDir(): string[] {
  return readdirSync(BASE_DIR)
    .filter((name) => /\.ya?ml$/.test(name) && name !== 'kustomization.yaml')
    .sort();
}

/** The objects of every resource file the base kustomization lists, as committed (before kustomize). */
export function loadManifests(): Manifest[] {
  return readKustomization().resources.flatMap((file) =>
    parseYamlDocuments(readFileSync(path.join(BASE_DIR, file), 'utf8'), file).map((object) => ({ file, object })),
  );
}

/** Every folder under k8s/ that holds a kustomization.yaml, relative to the repository ("k8s", "k8s/base", ...). */
export function kustomizationDirs(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name === 'kustomization.yaml')) found.push(path.relative(REPO_ROOT, dir));
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(K8S_DIR);
  return found.sort();
}

const rendered = new Map<string, Record<string, unknown>[]>();

/**
 * Renders a kustomization exactly as `kubectl apply -k <dir>` would. kubectl's built-in kustomize is
 * the real thing; a JavaScript re-implementation would test itself. Without kubectl this fails with
 * a hint rather than skipping. Cached per folder: the tests take copies before they change anything.
 */
export function renderKustomization(dir: string): Record<string, unknown>[] {
  const cached = rendered.get(dir);
  if (cached) return structuredClone(cached);
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', path.join(REPO_ROOT, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('kubectl not found on PATH: install it (apt-get install -y kubectl) to render k8s/ with kustomize');
    }
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl kustomize ${dir} failed: ${stderr.trim()}`);
  }
  const objects = parseYamlDocuments(text, `kubectl kustomize ${dir}`);
  rendered.set(dir, objects);
  return structuredClone(objects);
}

/** The one object of a kind and name among rendered objects; fails when there is none or several. */
export function findRendered(objects: readonly Record<string, unknown>[], kind: string, name: string): Record<string, unknown> {
  const found = objects.filter((o) => o.kind === kind && nameOf(o) === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} named ${name}, found ${found.length}`);
  return found[0]!;
}

export function typeKey(object: Record<string, unknown>): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`;
}

export function nameOf(object: Record<string, unknown>): string {
  const metadata = object.metadata as { name?: unknown } | undefined;
  return String(metadata?.name);
}

/**
 * Validates one object against its Kubernetes schema; throws with the schema's errors. Built-in kinds
 * go to kubernetes-models; custom resources (Gateway API, implementation policies) to the CRD
 * schemas vendored in test/deploy/schemas/, loaded on first use.
 */
export function validateObject(object: Record<string, unknown>): void {
  const Model = MODELS[typeKey(object)];
  if (Model) {
    new Model(object as never).validate();
    return;
  }
  crdValidator ??= loadCrdValidator();
  const errors = crdValidator.errors(object);
  if (errors.length > 0) throw new Error(`${typeKey(object)} ${nameOf(object)}: ${errors.join('; ')}`);
}
let crdValidator: CrdValidator | undefined;

/** The single object of a kind and name; fails when there is none or more than one. */
export function findObject<T>(
  manifests: readonly Manifest[],
  Model: { new (data: never): T; kind: string },
  name: string,
): T {
  const found = manifests.filter((m) => m.object.kind === Model.kind && nameOf(m.object) === name);
  if (found.length !== 1) throw new Error(`expected one ${Model.kind} named ${name}, found ${found.length}`);
  return new Model(found[0]!.object as never);
}

export function objectsOfKind<T>(manifests: readonly Manifest[], Model: { new (data: never): T; kind: string }): T[] {
  return manifests.filter((m) => m.object.kind === Model.kind).map((m) => new Model(m.object as never));
}

const BINARY_UNITS: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };
const DECIMAL_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** A Kubernetes byte quantity ("128Mi", "1Gi", "500M", "1048576") in bytes. */
export function bytesOf(quantity: string | number | undefined): number {
  if (quantity === undefined) throw new Error('quantity missing');
  if (typeof quantity === 'number') return quantity;
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!match) throw new Error(`not a byte quantity: ${quantity}`);
  const unit = match[2] ?? '';
  const factor = BINARY_UNITS[unit] ?? DECIMAL_UNITS[unit];
  if (factor === undefined) throw new Error(`unknown unit in ${quantity}`);
  return Number(match[1]) * factor;
}

/** A Kubernetes CPU quantity ("100m", "1", "0.5") in millicores. */
export function millicoresOf(quantity: string | number | undefined): number {
  if (quantity === undefined) throw new Error('quantity missing');
  if (typeof quantity === 'number') return quantity * 1000;
  const match = /^(\d+(?:\.\d+)?)(m)?$/.exec(quantity);
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  return match[2] === 'm' ? Number(match[1]) : Number(match[1]) * 1000;
}

/** An nginx size ("33m", "512k", "1g", "1048576") in bytes; nginx's units are binary. */
export function nginxBytesOf(size: string): number {
  const match = /^(\d+)([kKmMgG])?$/.exec(size);
  if (!match) throw new Error(`not an nginx size: ${size}`);
  const unit = (match[2] ?? '').toLowerCase();
  const factor = unit === 'k' ? 2 ** 10 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1;
  return Number(match[1]) * factor;
}
