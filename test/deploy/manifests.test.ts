import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  K8S_DIR,
  loadManifests,
  nameOf,
  parseYamlDocuments,
  readKustomization,
  typeKey,
  validateObject,
  yamlFilesInK8sDir,
} from './support/k8s';
import { createUnknownFieldCheck } from './support/unknown-fields';

const NAMESPACE = 'heygen-upload-proxy';

/**
 * Renders k8s/ exactly as `kubectl apply -k k8s` would. kubectl's built-in kustomize is the real
 * thing; a JavaScript re-implementation would test itself. Without kubectl this fails with a hint
 * rather than skipping: the policies below are checked on the committed files either way.
 */
function renderWithKubectl(): string {
  try {
    return execFileSync('kubectl', ['kustomize', K8S_DIR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('kubectl not found on PATH: install it (apt-get install -y kubectl) to render k8s/ with kustomize');
    }
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`kubectl kustomize k8s failed: ${stderr.trim()}`);
  }
}

describe('k8s manifests', () => {
  it('lists every manifest file in kustomization.yaml, and only files that exist', () => {
    const listed = [...readKustomization().resources].sort();
    expect(listed).toEqual(yamlFilesInK8sDir());
    for (const file of listed) expect(existsSync(path.join(K8S_DIR, file))).toBe(true);
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

    it.each(loadManifests().map(({ file, object }) => [`${file}: ${typeKey(object)} ${nameOf(object)}`, object] as const))(
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

  describe('rendered by kubectl kustomize', () => {
    let rendered: Record<string, unknown>[];
    beforeAll(() => {
      rendered = parseYamlDocuments(renderWithKubectl(), 'kubectl kustomize k8s');
    });

    it('renders the same objects as the files declare, each still valid', () => {
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
