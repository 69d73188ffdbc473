import path from 'node:path';
import ts from 'typescript';
import { REPO_ROOT } from './k8s';

/**
 * kubernetes-models checks types, required fields and enums, but lets unknown fields through, and an
 * unknown field is how a typo hides (`readinessProbes:` would leave a pod without a readiness probe).
 * kubernetes-models also ships the API's TypeScript interfaces, so this walks each object beside the
 * interface of its kind with the TypeScript checker and reports every key the interface lacks.
 */

// apiVersion/kind -> the module and interface that describe it.
const KINDS: Readonly<Record<string, readonly [module: string, iface: string]>> = {
  'v1/Namespace': ['kubernetes-models/v1/Namespace', 'INamespace'],
  'v1/ConfigMap': ['kubernetes-models/v1/ConfigMap', 'IConfigMap'],
  'v1/Secret': ['kubernetes-models/v1/Secret', 'ISecret'],
  'v1/Service': ['kubernetes-models/v1/Service', 'IService'],
  'v1/PersistentVolumeClaim': ['kubernetes-models/v1/PersistentVolumeClaim', 'IPersistentVolumeClaim'],
  'v1/ServiceAccount': ['kubernetes-models/v1/ServiceAccount', 'IServiceAccount'],
  'apps/v1/Deployment': ['kubernetes-models/apps/v1/Deployment', 'IDeployment'],
  'networking.k8s.io/v1/Ingress': ['kubernetes-models/networking.k8s.io/v1/Ingress', 'IIngress'],
  'networking.k8s.io/v1/NetworkPolicy': ['kubernetes-models/networking.k8s.io/v1/NetworkPolicy', 'INetworkPolicy'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler', 'IHorizontalPodAutoscaler'],
  'policy/v1/PodDisruptionBudget': ['kubernetes-models/policy/v1/PodDisruptionBudget', 'IPodDisruptionBudget'],
};

export type UnknownFieldCheck = (object: Record<string, unknown>) => string[];

/** Builds the checker once (a TypeScript program over the interfaces: about a second). */
export function createUnknownFieldCheck(): UnknownFieldCheck {
  const virtualFile = path.join(REPO_ROOT, 'test/deploy/support/__kinds__.ts');
  const entries = Object.entries(KINDS);
  const source = [
    ...entries.map(([, [module, iface]], i) => `import type { ${iface} as K${i} } from '${module}';`),
    `export interface Kinds { ${entries.map(([key], i) => `'${key}': K${i};`).join(' ')} }`,
  ].join('\n');

  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  host.readFile = (file) => (file === virtualFile ? source : readFile(file));
  host.fileExists = (file) => file === virtualFile || fileExists(file);
  host.getSourceFile = (file, languageVersion, ...rest) =>
    file === virtualFile ? ts.createSourceFile(file, source, languageVersion, true) : getSourceFile(file, languageVersion, ...rest);

  const program = ts.createProgram([virtualFile], options, host);
  const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(virtualFile));
  if (problems.length > 0) {
    throw new Error(`cannot load the kubernetes-models interfaces: ${ts.flattenDiagnosticMessageText(problems[0]!.messageText, ' ')}`);
  }
  const checker = program.getTypeChecker();
  const kindsSymbol = checker.getSymbolAtLocation(program.getSourceFile(virtualFile)!)!.exports!.get(ts.escapeLeadingUnderscores('Kinds'))!;
  const kindsType = checker.getDeclaredTypeOfSymbol(kindsSymbol);

  const isObjectLike = (type: ts.Type): boolean => (type.flags & ts.TypeFlags.Object) !== 0;

  function walk(value: unknown, declared: ts.Type, where: string, found: string[]): void {
    if (value === null || value === undefined || typeof value !== 'object') return;
    const type = checker.getNonNullableType(declared);
    // An interface that failed to resolve turns into `any`, which would check nothing below it.
    if ((type.flags & ts.TypeFlags.Any) !== 0) {
      found.push(`${where}: its type did not resolve`);
      return;
    }
    const candidates = type.isUnion() ? type.types.filter(isObjectLike) : isObjectLike(type) ? [type] : [];
    if (candidates.length === 0) return;
    if (candidates.length > 1) {
      // A union of object shapes: the value is fine if it fits one of them.
      const attempts = candidates.map((candidate) => {
        const errors: string[] = [];
        walk(value, candidate, where, errors);
        return errors;
      });
      found.push(...attempts.reduce((best, errors) => (errors.length < best.length ? errors : best)));
      return;
    }
    const [shape] = candidates as [ts.Type];
    if (Array.isArray(value)) {
      const element = checker.isArrayType(shape) ? checker.getTypeArguments(shape as ts.TypeReference)[0] : undefined;
      if (element) value.forEach((item, index) => walk(item, element, `${where}[${index}]`, found));
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const property = checker.getPropertyOfType(shape, key);
      const childType = property ? checker.getTypeOfSymbol(property) : checker.getIndexTypeOfType(shape, ts.IndexKind.String);
      if (childType) walk(child, childType, `${where}.${key}`, found);
      else found.push(`${where}.${key}`);
    }
  }

  return (object) => {
    const key = `${String(object.apiVersion)}/${String(object.kind)}`;
    const property = checker.getPropertyOfType(kindsType, key);
    if (!property) return [`no interface known for ${key}`];
    const found: string[] = [];
    walk(object, checker.getTypeOfSymbol(property), String(object.kind), found);
    return found;
  };
}
