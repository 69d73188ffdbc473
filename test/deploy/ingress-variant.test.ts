import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { MULTIPART_OVERHEAD_ALLOWANCE } from '../../src/intake/multipart/form-limits';
import { findRendered, nameOf, nginxBytesOf, renderKustomization } from './support/k8s';
import { configFromConfigMap, uploadTiming } from './support/upload-timing';

/**
 * The Ingress variant (k8s/variants/ingress): the base exposed through an ingress-nginx Ingress, for
 * clusters that still run one. Its annotations are checked against the same configuration numbers
 * the Gateway overlays are.
 */

const APP = 'heygen-upload-proxy';
const MIB = 2 ** 20;

const objects = renderKustomization('k8s/variants/ingress');
const ingress = new Ingress(findRendered(objects, 'Ingress', APP));
const annotations = ingress.metadata!.annotations!;
const service = findRendered(objects, 'Service', APP) as { metadata: { name: string }; spec: { ports: { name: string; port: number }[] } };
const config = configFromConfigMap((findRendered(objects, 'ConfigMap', APP) as { data: Record<string, string> }).data);
const timing = uploadTiming(config);

describe('Ingress variant (k8s/variants/ingress)', () => {
  it('renders an Ingress instead of the HTTPRoute', () => {
    expect(objects.filter((o) => o.kind === 'HTTPRoute')).toEqual([]);
    expect(nameOf(ingress as unknown as Record<string, unknown>)).toBe(APP);
    expect((ingress.metadata as { namespace?: string }).namespace).toBe(APP);
  });

  it('routes the API and the public reads, as the route does, through ingress-nginx to the Service', () => {
    expect(ingress.spec!.ingressClassName).toBe('nginx');
    const paths = ingress.spec!.rules!.flatMap((rule) => rule.http!.paths);
    expect(paths.map((p) => [p.path, p.pathType])).toEqual([
      ['/v1', 'Prefix'],
      ['/openapi.json', 'Exact'],
      ['/healthz', 'Exact'],
    ]);
    for (const p of paths) {
      expect(p.backend.service!.name).toBe(service.metadata.name);
      expect(service.spec.ports.map((port) => port.name)).toContain(p.backend.service!.port!.name);
    }
  });

  it('allows bodies up to the largest type limit plus multipart overhead, and no further', () => {
    const bodyLimit = nginxBytesOf(annotations['nginx.ingress.kubernetes.io/proxy-body-size']!);
    // Never below what the service itself accepts, so nginx refuses no legal upload...
    expect(bodyLimit).toBeGreaterThanOrEqual(timing.largestFileBytes + MULTIPART_OVERHEAD_ALLOWANCE);
    // ...and not far above it, so oversized bodies stop at the edge.
    expect(bodyLimit - timing.largestFileBytes).toBeLessThanOrEqual(2 * MIB);
  });

  it('does not buffer request bodies at the ingress: the pod buffers (or streams) them itself', () => {
    expect(['buffered', 'streaming']).toContain(config.upstreamMode);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
    // Unbuffered bodies need HTTP/1.1 to the pod (chunked transfer).
    expect(annotations['nginx.ingress.kubernetes.io/proxy-http-version']).toBe('1.1');
  });

  it('waits longer than the service’s own timeouts, so the service answers first', () => {
    const sendTimeoutMs = Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout']) * 1000;
    const readTimeoutMs = Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout']) * 1000;
    expect(sendTimeoutMs).toBeGreaterThan(config.clientIdleTimeoutMs);
    // After the body, the pod forwards it before it answers: one upstream attempt and a retry (v1),
    // or above v3's multipart cap a direct upload (three calls, the PUT, the retries' pauses).
    expect(readTimeoutMs).toBeGreaterThan(2 * config.upstreamTimeoutMs);
    expect(readTimeoutMs).toBeGreaterThan(timing.answerMs);
    expect(annotations['nginx.ingress.kubernetes.io/proxy-next-upstream']).toBe('off');
  });

  it('admits traffic to the pods only from ingress-nginx’s controller', () => {
    const policy = findRendered(objects, 'NetworkPolicy', APP) as { spec: { ingress: { from: unknown[] }[] } };
    expect(policy.spec.ingress.map((rule) => rule.from)).toEqual([
      [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } },
        },
      ],
    ]);
  });
});
