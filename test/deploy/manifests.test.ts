import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  BASE_DIR,
  MODELS,
  kustomizationDirs,
  loadManifests,
  nameOf,
  readKustomization,
  renderKustomization,
  typeKey,
  validateObject,
  yamlFilesInBaseDir,
} from './support/k8s';
import { type UnknownFieldCheck, createUnknownFieldCheck } from './support/unknown-fields';

const NAMESPACE = 'heygen-upload-proxy';

// Built-in kinds: their unknown fields are found through kubernetes-models' interfaces. Custom
// resources (Gateway API, policies) are checked against their CRDs, which the validator closes.
const isBuiltIn = (object: Record<string, unknown>): boolean => MODELS[typeKey(object)] !== undefined;

describe('k8s manifests', () => {
  it('lists every manifest file of k8s/base in its kustomization.yaml, and only files that exist', () => {
    const listed = [...readKustomization().resources].sort();
    expect(listed).toEqual(yamlFilesInBaseDir());
    for (const file of listed) expect(existsSync(path.join(BASE_DIR, file))).toBe(true);
  });

  it('parses every document and each has apiVersion, kind and a name', () => {
    const manifests = loadManifests();
    expect(manifests.length).toBeGreaterThan(0);
    for (const { file, object } of manifests) {
      expect({ file, apiVersion: typeof object.apiVersion, kind: typeof object.kind }).toEqual({
        file,
        apiVersion: 'string',
        kind: 'string',
      });
      expect(nameOf(object)).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });

  it.each(loadManifests().map(({ file, object }) => [`${file}: ${typeKey(object)} ${nameOf(object)}`, object] as const))(
    'validates against the Kubernetes schema: %s',
    (_label, object) => {
      expect(() => validateObject(object)).not.toThrow();
    },
  );

  it('rejects an object that breaks the schema (the validator is really checking)', () => {
    const [deployment] = loadManifests().filter((m) => m.object.kind === 'Deployment');
    const broken = structuredClone(deployment!.object) as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => validateObject(broken as unknown as Record<string, unknown>)).toThrow(/replicas/);
  });

  describe('unknown fields (typos the API server would drop or refuse)', () => {
    const unknownFields = createUnknownFieldCheck();

    it.each(loadManifests().filter(({ object }) => isBuiltIn(object)).map(({ file, object }) => [`${file}: ${typeKey(object)} ${nameOf(object)}`, object] as const))(
      'has only fields its kind defines: %s',
      (_label, object) => {
        expect(unknownFields(object)).toEqual([]);
      },
    );

    it('finds a misspelt field deep in a pod spec (the check is really checking)', () => {
      const [deployment] = loadManifests().filter((m) => m.object.kind === 'Deployment');
      const broken = structuredClone(deployment!.object) as {
        spec: { template: { spec: { containers: Record<string, unknown>[] } } };
      };
      const container = broken.spec.template.spec.containers[0]!;
      container.readinessProbes = container.readinessProbe;
      delete container.readinessProbe;
      expect(unknownFields(broken as unknown as Record<string, unknown>)).toEqual([
        'Deployment.spec.template.spec.containers[0].readinessProbes',
      ]);
    });
  });

  it('declares no two objects with the same kind and name', () => {
    const keys = loadManifests().map(({ object }) => `${typeKey(object)}/${nameOf(object)}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  describe('every kustomization under k8s/ (kubectl kustomize)', () => {
    let unknownFields: UnknownFieldCheck;
    beforeAll(() => {
      unknownFields = createUnknownFieldCheck();
    });

    it('finds the default, the base, both Gateway implementations and the Ingress variant', () => {
      expect(kustomizationDirs()).toEqual(
        expect.arrayContaining(['k8s', 'k8s/base', 'k8s/gateway/envoy-gateway', 'k8s/gateway/nginx-gateway-fabric', 'k8s/variants/ingress']),
      );
    });

    it.each(kustomizationDirs())('renders %s, every object valid against its schema (built-in or vendored CRD)', (dir) => {
      const objects = renderKustomization(dir);
      expect(objects.length).toBeGreaterThan(0);
      for (const object of objects) expect(() => validateObject(object)).not.toThrow();
    });

    it.each(kustomizationDirs())('renders %s with only fields each built-in kind defines', (dir) => {
      const found = renderKustomization(dir).filter(isBuiltIn).flatMap((object) => unknownFields(object).map((f) => `${nameOf(object)}: ${f}`));
      expect(found).toEqual([]);
    });

    it.each(kustomizationDirs())('renders %s with no two objects of the same kind, namespace and name', (dir) => {
      const keys = renderKustomization(dir).map((o) => `${typeKey(o)}/${String((o.metadata as { namespace?: string }).namespace)}/${nameOf(o)}`);
      expect(new Set(keys).size).toBe(keys.length);
    });
  });

  describe('rendered by kubectl kustomize k8s (the default)', () => {
    let rendered: Record<string, unknown>[];
    beforeAll(() => {
      rendered = renderKustomization('k8s');
    });

    it('renders the same objects as the base files declare, each still valid', () => {
      const key = (object: Record<string, unknown>) => `${typeKey(object)}/${nameOf(object)}`;
      expect(rendered.map(key).sort()).toEqual(loadManifests().map(({ object }) => key(object)).sort());
      for (const object of rendered) expect(() => validateObject(object)).not.toThrow();
    });

    it(`puts every namespaced object in the ${NAMESPACE} namespace`, () => {
      for (const object of rendered) {
        const metadata = object.metadata as { namespace?: string };
        if (object.kind === 'Namespace') expect(nameOf(object)).toBe(NAMESPACE);
        else expect({ kind: object.kind, namespace: metadata.namespace }).toEqual({ kind: object.kind, namespace: NAMESPACE });
      }
    });

    it('pins the service image to a tag', () => {
      const deployment = rendered.find((o) => o.kind === 'Deployment' && nameOf(o) === 'heygen-upload-proxy') as {
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      const image = deployment.spec.template.spec.containers[0]!.image;
      expect(image).toMatch(/^([^/]+\/)*heygen-upload-proxy:[\w.-]+$/);
      expect(image).not.toMatch(/:latest$/);
    });
  });
});
