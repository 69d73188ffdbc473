import { KEEP_ALIVE_TIMEOUT_MS } from '../../src/server';
import { MULTIPART_OVERHEAD_ALLOWANCE } from '../../src/intake/multipart/form-limits';
import { findRendered, kustomizationDirs, nginxBytesOf, renderKustomization, validateObject } from './support/k8s';
import { configFromConfigMap, gatewayDurationMs, nginxDurationMs, uploadTiming } from './support/upload-timing';

/**
 * The Gateway API exposure (k8s/base/httproute.yaml, rendered through every kustomization that has
 * it) and the implementation overlays' policies (k8s/gateway/*), against the service's configuration.
 */

const APP = 'heygen-upload-proxy';
const MIB = 2 ** 20;
/** How far above the derived minimum a route's upload timeout may be: enough margin, not unbounded. */
const TIMEOUT_SLACK_MS = 120_000;

type Obj = Record<string, unknown>;
interface PathMatch { type?: string; value?: string }
interface BackendRef { group?: string; kind?: string; name: string; namespace?: string; port?: number }
interface Filter { type: string; extensionRef?: { group: string; kind: string; name: string } }
interface Rule { matches?: { path?: PathMatch; method?: string }[]; backendRefs?: BackendRef[]; timeouts?: { request?: string; backendRequest?: string }; filters?: Filter[] }
interface Route { metadata: { name: string; namespace?: string }; spec: { parentRefs: { group?: string; kind?: string; name: string; namespace?: string }[]; rules: Rule[] } }
interface ServiceObj { metadata: { name: string }; spec: { ports: { name?: string; port: number; targetPort?: string | number }[] } }
interface PolicyTarget { group: string; kind: string; name: string; sectionName?: string }

/** Paths the route must send to the service; uploads need the long timeout. */
const PUBLIC_PATHS: readonly { path: string; upload: boolean }[] = [
  { path: '/v1/asset', upload: true },
  { path: '/v1/uploads', upload: true },
  { path: '/v1/uploads/0f8e2a6c4b1d', upload: true },
  { path: '/v1/limits', upload: false },
  { path: '/openapi.json', upload: false },
  { path: '/healthz', upload: false },
];
/** Paths that stay inside the cluster. */
const PRIVATE_PATHS = ['/readyz', '/metrics', '/', '/v1', '/v1/asset/extra', '/v1/uploadsx'];

/** Gateway API path matching: Exact is the whole path; PathPrefix matches whole path elements. */
function pathMatches(match: PathMatch, path: string): boolean {
  const type = match.type ?? 'PathPrefix';
  const value = match.value ?? '/';
  if (type === 'Exact') return path === value;
  if (type === 'PathPrefix') {
    const prefix = value.endsWith('/') && value !== '/' ? value.slice(0, -1) : value;
    return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
  }
  return false; // RegularExpression: not used here, and implementation-specific.
}

/** The rule a request for `path` lands on: an Exact match wins, then the longest prefix. */
function ruleFor(route: Route, path: string): Rule | undefined {
  let best: { rule: Rule; rank: number } | undefined;
  for (const rule of route.spec.rules) {
    for (const match of rule.matches ?? [{ path: { type: 'PathPrefix', value: '/' } }]) {
      // Only plain path matches route every method: a method or header match narrows the rule.
      if (match.method !== undefined || !pathMatches(match.path ?? {}, path)) continue;
      const rank = match.path?.type === 'Exact' ? Number.MAX_SAFE_INTEGER : (match.path?.value ?? '/').length;
      if (!best || rank > best.rank) best = { rule, rank };
    }
  }
  return best?.rule;
}

/**
 * Everything wrong with a route for this service, in words ([] when it is right): a public path not
 * routed, a private one routed, a backend that is not the Service on its port, a rule without a
 * request timeout, an upload rule whose timeout would cut uploads the service would finish.
 */
function routeProblems(route: Route, service: ServiceObj, minUploadTimeoutMs: number): string[] {
  const problems: string[] = [];
  const servicePorts = service.spec.ports.filter((p) => p.targetPort === 'http').map((p) => p.port);
  route.spec.rules.forEach((rule, index) => {
    const timeout = rule.timeouts?.request;
    if (timeout === undefined) {
      problems.push(`rule ${index}: no timeouts.request (the implementation's default applies: Envoy's is 15 s)`);
    } else if (gatewayDurationMs(timeout) === 0) {
      problems.push(`rule ${index}: timeouts.request is 0s (no timeout at all)`);
    }
    for (const ref of rule.backendRefs ?? []) {
      if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service' || ref.name !== service.metadata.name || ref.namespace !== undefined) {
        problems.push(`rule ${index}: backend ${ref.kind ?? 'Service'} ${ref.name} is not the Service ${service.metadata.name} of this namespace`);
      }
      if (ref.port === undefined || !servicePorts.includes(ref.port)) {
        problems.push(`rule ${index}: backend port ${String(ref.port)} is not the Service's http port (${servicePorts.join(', ')})`);
      }
    }
    if ((rule.backendRefs ?? []).length === 0) problems.push(`rule ${index}: no backendRefs`);
  });
  for (const { path, upload } of PUBLIC_PATHS) {
    const rule = ruleFor(route, path);
    if (!rule) {
      problems.push(`${path}: not routed`);
      continue;
    }
    const timeout = rule.timeouts?.request;
    if (upload && timeout !== undefined) {
      const ms = gatewayDurationMs(timeout);
      if (ms !== 0 && ms < minUploadTimeoutMs) problems.push(`${path}: timeouts.request ${timeout} is under the ${minUploadTimeoutMs / 1000} s an upload may take`);
      if (ms > minUploadTimeoutMs + TIMEOUT_SLACK_MS) problems.push(`${path}: timeouts.request ${timeout} is far above the ${minUploadTimeoutMs / 1000} s an upload may take`);
    }
  }
  for (const path of PRIVATE_PATHS) if (ruleFor(route, path)) problems.push(`${path}: routed, but should stay inside the cluster`);
  return problems;
}

const dirsWithRoute = kustomizationDirs().filter((dir) => renderKustomization(dir).some((o) => o.kind === 'HTTPRoute'));

function setup(dir: string) {
  const objects = renderKustomization(dir);
  const route = findRendered(objects, 'HTTPRoute', APP) as unknown as Route;
  const service = findRendered(objects, 'Service', APP) as unknown as ServiceObj;
  const config = configFromConfigMap((findRendered(objects, 'ConfigMap', APP) as { data: Record<string, string> }).data);
  return { objects, route, service, config, timing: uploadTiming(config) };
}

describe('the upload timeout, derived from the configuration', () => {
  const { config, timing } = setup('k8s');

  it('has the service’s REQUEST_TIMEOUT_MS bind before its minimum client rate for the largest file', () => {
    // 200 MiB at 1 KiB/s would take 56.9 h; REQUEST_TIMEOUT_MS ends the request at 600 s first.
    expect(timing.largestFileBytes / config.clientMinBytesPerSecond).toBeGreaterThan(timing.bodyMs / 1000);
    expect(timing.slowestWholeFileBytesPerSecond).toBeGreaterThan(config.clientMinBytesPerSecond);
  });

  it('comes to the numbers k8s/base/httproute.yaml and k8s/README.md give for the defaults', () => {
    expect(config.heygenApi).toBe('v3');
    expect(timing.largestFileBytes).toBe(200 * MIB);
    expect(timing.bodyMs).toBe(600_000);
    expect(Math.floor(timing.slowestWholeFileBytesPerSecond / 1024)).toBe(341);
    expect(timing.answerMs).toBe(390_000);
    expect(timing.minRequestTimeoutMs).toBe(990_000);
  });
});

describe.each(dirsWithRoute)('HTTPRoute rendered by %s', (dir) => {
  const { objects, route, service, timing } = setup(dir);

  it('validates against the Gateway API v1.6.1 standard-channel CRD', () => {
    expect(() => validateObject(route as unknown as Obj)).not.toThrow();
  });

  it('routes every public path, and only those, to the Service’s http port, each rule with a fitting request timeout', () => {
    expect(routeProblems(route, service, timing.minRequestTimeoutMs)).toEqual([]);
  });

  it('attaches to one Gateway, and the NetworkPolicy’s peer follows it where the base’s rule is kept', () => {
    expect(route.spec.parentRefs).toHaveLength(1);
    const [parent] = route.spec.parentRefs;
    expect({ group: parent!.group, kind: parent!.kind }).toEqual({ group: 'gateway.networking.k8s.io', kind: 'Gateway' });
    expect(parent!.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(parent!.namespace).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    const policy = findRendered(objects, 'NetworkPolicy', APP) as { spec: { ingress: { from: { namespaceSelector?: { matchLabels?: Record<string, string> } }[] }[] } };
    const peers = policy.spec.ingress.flatMap((rule) => rule.from);
    expect(peers).toHaveLength(1);
    const namespace = peers[0]!.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
    if (dir.includes('envoy-gateway')) expect(namespace).toBe('envoy-gateway-system');
    else expect(namespace).toBe(parent!.namespace);
  });
});

describe('the route check catches deliberate mistakes', () => {
  const { route, service, timing } = setup('k8s');
  const check = (broken: Route) => routeProblems(broken, service, timing.minRequestTimeoutMs);
  const uploadRule = (r: Route) => r.spec.rules.find((rule) => rule.matches?.some((m) => m.path?.value === '/v1/asset'))!;

  it('passes the route as committed', () => {
    expect(check(route)).toEqual([]);
  });

  it('fails a route whose upload rule has no request timeout', () => {
    const broken = structuredClone(route);
    delete uploadRule(broken).timeouts;
    expect(check(broken)).toEqual(expect.arrayContaining([expect.stringMatching(/no timeouts\.request/)]));
  });

  it('fails a route whose upload timeout is the implementation-style 15 s, or 0s', () => {
    const short = structuredClone(route);
    uploadRule(short).timeouts = { request: '15s' };
    expect(check(short)).toEqual(expect.arrayContaining([expect.stringMatching(/^\/v1\/asset: timeouts\.request 15s is under/)]));
    const off = structuredClone(route);
    uploadRule(off).timeouts = { request: '0s' };
    expect(check(off)).toEqual(expect.arrayContaining([expect.stringMatching(/is 0s/)]));
  });

  it('fails a route that misses a path (tus under /v1/uploads dropped)', () => {
    const broken = structuredClone(route);
    const rule = uploadRule(broken);
    rule.matches = rule.matches!.filter((m) => m.path?.value !== '/v1/uploads');
    expect(check(broken)).toEqual(expect.arrayContaining(['/v1/uploads: not routed', '/v1/uploads/0f8e2a6c4b1d: not routed']));
  });

  it('fails a route that points at the wrong Service port (the container’s 3000 instead of the Service’s 80)', () => {
    const broken = structuredClone(route);
    uploadRule(broken).backendRefs![0]!.port = 3000;
    expect(check(broken)).toEqual([expect.stringMatching(/backend port 3000 is not the Service's http port \(80\)/)]);
  });

  it('fails a route that makes /metrics public', () => {
    const broken = structuredClone(route);
    broken.spec.rules[1]!.matches!.push({ path: { type: 'PathPrefix', value: '/metrics' } });
    expect(check(broken)).toEqual(['/metrics: routed, but should stay inside the cluster']);
  });

  it('has the CRD schema refuse a misspelt field and a malformed duration (the vendored validator is really checking)', () => {
    const misspelt = structuredClone(route) as unknown as { spec: { rules: Record<string, unknown>[] } };
    misspelt.spec.rules[0]!.timeout = misspelt.spec.rules[0]!.timeouts;
    delete misspelt.spec.rules[0]!.timeouts;
    expect(() => validateObject(misspelt as unknown as Obj)).toThrow(/must NOT have additional properties \(timeout\)/);
    const malformed = structuredClone(route);
    uploadRule(malformed).timeouts = { request: '17 minutes' };
    expect(() => validateObject(malformed as unknown as Obj)).toThrow(/timeouts\/request must match pattern/);
  });
});

describe('Envoy Gateway overlay (k8s/gateway/envoy-gateway)', () => {
  const { objects, route, config, timing } = setup('k8s/gateway/envoy-gateway');
  const btp = findRendered(objects, 'BackendTrafficPolicy', APP) as { metadata: { namespace: string }; spec: Obj & { targetRefs: PolicyTarget[]; timeout: { tcp: { connectTimeout: string }; http: { streamIdleTimeout: string; connectionIdleTimeout: string } } } };
  const ctp = findRendered(objects, 'ClientTrafficPolicy', APP) as { metadata: { namespace: string }; spec: { targetRefs: PolicyTarget[]; clientIPDetection: Obj & { xForwardedFor?: { numTrustedHops?: number; trustedCIDRs?: string[] } } } };
  const parent = route.spec.parentRefs[0]!;

  it('validates both policies against the Envoy Gateway v1.9.0 CRDs', () => {
    expect(() => validateObject(btp as unknown as Obj)).not.toThrow();
    expect(() => validateObject(ctp as unknown as Obj)).not.toThrow();
  });

  it('attaches the BackendTrafficPolicy to this route, in the route’s namespace', () => {
    expect(btp.metadata.namespace).toBe(route.metadata.namespace);
    expect(btp.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route.metadata.name }]);
  });

  it('keeps a stream open through the longest silence of an upload, and ends a stalled client after the service would', () => {
    const idleMs = gatewayDurationMs(btp.spec.timeout.http.streamIdleTimeout);
    expect(idleMs).toBeGreaterThanOrEqual(timing.answerMs);
    expect(idleMs).toBeGreaterThan(config.clientIdleTimeoutMs);
    // Below the route's own request timeout: the idle timer is not the overall bound.
    const uploadTimeout = route.spec.rules.find((r) => r.matches?.some((m) => m.path?.value === '/v1/asset'))!.timeouts!.request;
    expect(idleMs).toBeLessThan(gatewayDurationMs(uploadTimeout));
    expect(gatewayDurationMs(btp.spec.timeout.tcp.connectTimeout)).toBeLessThanOrEqual(10_000);
  });

  it('drops idle connections to the pods before the pods do (no request sent down a closing connection)', () => {
    expect(gatewayDurationMs(btp.spec.timeout.http.connectionIdleTimeout)).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  it('neither buffers requests at Envoy nor replays them', () => {
    expect(btp.spec.requestBuffer).toBeUndefined();
    expect(btp.spec.retry).toBeUndefined();
    expect(route.spec.rules.every((r) => (r as Obj).retry === undefined)).toBe(true);
  });

  it('puts the ClientTrafficPolicy on the route’s Gateway, in the Gateway’s namespace', () => {
    expect(ctp.metadata.namespace).toBe(parent.namespace);
    // CEL rules of the CRD, which ajv does not evaluate: targets are Gateways of the Gateway API group.
    expect(ctp.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: parent.name }]);
  });

  it('detects client addresses one way only, and has TRUST_PROXY count Envoy’s own hop on top', () => {
    // CEL: exactly one of xForwardedFor, customHeader, directSourceIP; one of numTrustedHops, trustedCIDRs.
    expect(Object.keys(ctp.spec.clientIPDetection)).toEqual(['xForwardedFor']);
    const xff = ctp.spec.clientIPDetection.xForwardedFor!;
    expect(xff.trustedCIDRs).toBeUndefined();
    expect(config.trustProxy).toBe(xff.numTrustedHops! + 1);
  });
});

describe('NGINX Gateway Fabric overlays (k8s/gateway/nginx-gateway-fabric, -unbuffered)', () => {
  const { objects, route, config, timing } = setup('k8s/gateway/nginx-gateway-fabric');
  const csp = findRendered(objects, 'ClientSettingsPolicy', APP) as { metadata: { namespace: string }; spec: { targetRef: PolicyTarget; body: { maxSize: string; timeout: string } } };
  const psp = findRendered(objects, 'ProxySettingsPolicy', APP) as { metadata: { namespace: string }; spec: { targetRefs: PolicyTarget[]; timeout: { connect: string; send: string; read: string } } };
  const usp = findRendered(objects, 'UpstreamSettingsPolicy', APP) as { metadata: { namespace: string }; spec: { targetRefs: PolicyTarget[]; keepAlive: { timeout: string } } };
  const target = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route.metadata.name };

  it('validates both policies against the NGINX Gateway Fabric v2.6.7 CRDs, attached to this route in its namespace', () => {
    expect(() => validateObject(csp as unknown as Obj)).not.toThrow();
    expect(() => validateObject(psp as unknown as Obj)).not.toThrow();
    expect(csp.metadata.namespace).toBe(route.metadata.namespace);
    expect(psp.metadata.namespace).toBe(route.metadata.namespace);
    expect(csp.spec.targetRef).toEqual(target);
    expect(psp.spec.targetRefs).toEqual([target]);
  });

  it('allows bodies up to the largest type limit plus multipart overhead, and no further', () => {
    const bodyLimit = nginxBytesOf(csp.spec.body.maxSize);
    // Never below what the service itself accepts, so NGINX refuses no legal upload...
    expect(bodyLimit).toBeGreaterThanOrEqual(timing.largestFileBytes + MULTIPART_OVERHEAD_ALLOWANCE);
    // ...and not far above it, so oversized bodies stop at the edge.
    expect(bodyLimit - timing.largestFileBytes).toBeLessThanOrEqual(2 * MIB);
  });

  it('waits longer than the service’s own timeouts, so the service answers first', () => {
    expect(nginxDurationMs(csp.spec.body.timeout)).toBeGreaterThan(config.clientIdleTimeoutMs);
    expect(nginxDurationMs(psp.spec.timeout.send)).toBeGreaterThan(config.clientIdleTimeoutMs);
    expect(nginxDurationMs(psp.spec.timeout.read)).toBeGreaterThanOrEqual(timing.answerMs);
    expect(nginxDurationMs(psp.spec.timeout.connect)).toBeLessThanOrEqual(10_000);
  });

  it('drops idle connections to the pods before the pods do, by a policy on the route’s Service', () => {
    expect(() => validateObject(usp as unknown as Obj)).not.toThrow();
    expect(usp.metadata.namespace).toBe(route.metadata.namespace);
    // CEL rules of the CRD: core Services only.
    expect(usp.spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: route.spec.rules[0]!.backendRefs![0]!.name }]);
    expect(nginxDurationMs(usp.spec.keepAlive.timeout)).toBeLessThan(KEEP_ALIVE_TIMEOUT_MS);
  });

  it('turns request buffering off on the upload rule only, in the -unbuffered overlay', () => {
    const unbuffered = setup('k8s/gateway/nginx-gateway-fabric-unbuffered');
    const filter = findRendered(unbuffered.objects, 'SnippetsFilter', `${APP}-unbuffered`) as { metadata: { namespace: string }; spec: { snippets: { context: string; value: string }[] } };
    expect(() => validateObject(filter as unknown as Obj)).not.toThrow();
    expect(filter.metadata.namespace).toBe(unbuffered.route.metadata.namespace);
    expect(filter.spec.snippets).toEqual([{ context: 'http.server.location', value: 'proxy_request_buffering off;' }]);
    const ref = { type: 'ExtensionRef', extensionRef: { group: 'gateway.nginx.org', kind: 'SnippetsFilter', name: `${APP}-unbuffered` } };
    for (const path of ['/v1/asset', '/v1/uploads/0f8e2a6c4b1d']) expect(ruleFor(unbuffered.route, path)!.filters).toEqual([ref]);
    expect(ruleFor(unbuffered.route, '/v1/limits')!.filters).toBeUndefined();
    // The plain overlay has no filter: without snippets enabled in NGINX Gateway Fabric it would be a 500.
    expect(route.spec.rules.every((r) => r.filters === undefined)).toBe(true);
  });
});
