import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Service } from 'kubernetes-models/v1';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import {
  REPO_ROOT,
  bytesOf,
  findObject,
  loadManifests,
  millicoresOf,
  objectsOfKind,
  nameOf,
} from './support/k8s';

const APP = 'heygen-upload-proxy';
const REDIS = 'heygen-upload-proxy-redis';
const MIB = 2 ** 20;

// The service's pinned configuration names (its contract). A ConfigMap key outside this list is a
// typo the service would silently ignore.
const PINNED_ENV = new Set([
  'HEYGEN_API_KEY', 'HEYGEN_API', 'HEYGEN_API_BASE_URL', 'HEYGEN_UPLOAD_URL', 'PORT', 'HOST', 'MAX_IMAGE_BYTES', 'MAX_VIDEO_BYTES',
  'MAX_AUDIO_BYTES', 'UPSTREAM_MODE', 'UPSTREAM_TIMEOUT_MS', 'LOG_LEVEL', 'ALLOWED_ORIGINS',
  'RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW_MS', 'TRUST_PROXY', 'REDIS_URL', 'MAX_CONCURRENT_UPLOADS',
  'SHUTDOWN_GRACE_MS', 'UPLOAD_TOKEN_SECRET', 'CLIENT_IDLE_TIMEOUT_MS', 'CLIENT_MIN_BYTES_PER_SECOND',
  'CLIENT_MIN_RATE_WINDOW_MS', 'MAX_UPLOADS_PER_CLIENT', 'HEADERS_TIMEOUT_MS',
  'REQUEST_TIMEOUT_MS', 'TMPDIR', 'RESUMABLE_DIR', 'RESUMABLE_EXPIRY_MS', 'RESUMABLE_MAX_DISK_BYTES',
  'RESUMABLE_CLEANUP_INTERVAL_MS',
]);
const SECRET_ENV = ['HEYGEN_API_KEY', 'UPLOAD_TOKEN_SECRET'];

const manifests = loadManifests();
const deployment = findObject(manifests, Deployment, APP);
const pod = deployment.spec!.template.spec!;
const container = pod.containers.find((c) => c.name === 'server')!;
const config = findObject(manifests, ConfigMap, APP).data!;

function configNumber(key: string): number {
  const value = config[key];
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`ConfigMap ${key} is not a whole number: ${value}`);
  return Number(value);
}
const largestTypeLimit = Math.max(...['MAX_IMAGE_BYTES', 'MAX_VIDEO_BYTES', 'MAX_AUDIO_BYTES'].map(configNumber));

/** The Pod Security Standard "restricted", as the API server's admission checks it. */
function expectRestricted(spec: IPodSpec, label: string): void {
  expect({ label, runAsNonRoot: spec.securityContext?.runAsNonRoot }).toEqual({ label, runAsNonRoot: true });
  expect({ label, seccomp: spec.securityContext?.seccompProfile?.type }).toEqual({ label, seccomp: 'RuntimeDefault' });
  expect(spec.hostNetwork ?? false).toBe(false);
  expect(spec.hostPID ?? false).toBe(false);
  expect(spec.hostIPC ?? false).toBe(false);
  expect((spec.volumes ?? []).filter((v) => v.hostPath !== undefined)).toEqual([]);
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const sc = c.securityContext;
    expect({ container: c.name, allowPrivilegeEscalation: sc?.allowPrivilegeEscalation, privileged: sc?.privileged ?? false,
      readOnlyRootFilesystem: sc?.readOnlyRootFilesystem, drop: sc?.capabilities?.drop, add: sc?.capabilities?.add ?? [] })
      .toEqual({ container: c.name, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true,
        drop: ['ALL'], add: [] });
    const uid = sc?.runAsUser ?? spec.securityContext?.runAsUser;
    expect({ container: c.name, uidIsNonRoot: uid !== undefined && uid > 0 }).toEqual({ container: c.name, uidIsNonRoot: true });
  }
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

function resourcesOf(c: IContainer, kind: 'requests' | 'limits', name: string): string | number | undefined {
  return c.resources?.[kind]?.[name];
}

describe('Deployment heygen-upload-proxy', () => {
  it('runs at least 2 replicas', () => {
    expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(2);
  });

  it('probes readiness on /readyz and liveness on /healthz, on the container port', () => {
    const port = container.ports!.find((p) => p.name === 'http')!;
    expect(port.containerPort).toBe(configNumber('PORT'));
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(container.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
  });

  it('sets CPU and memory requests and limits, limits at or above requests', () => {
    for (const resource of ['cpu', 'memory'] as const) {
      const parse = resource === 'cpu' ? millicoresOf : bytesOf;
      const request = parse(resourcesOf(container, 'requests', resource));
      const limit = parse(resourcesOf(container, 'limits', resource));
      expect(request).toBeGreaterThan(0);
      expect(limit).toBeGreaterThanOrEqual(request);
    }
  });

  it('requests the memory the container smoke test allows as peak RSS, and limits well above it', () => {
    // scripts/container-smoke.sh fails when the service's peak RSS exceeds SMOKE_MAX_RSS_MB: the two
    // numbers say the same thing and must move together.
    const smoke = readFileSync(path.join(REPO_ROOT, 'scripts/container-smoke.sh'), 'utf8');
    const smokeMaxRssMib = Number(/SMOKE_MAX_RSS_MB:-(\d+)/.exec(smoke)?.[1]);
    expect(bytesOf(resourcesOf(container, 'requests', 'memory'))).toBe(smokeMaxRssMib * MIB);
    // The largest peak measured (README) was 235 MiB with 32 concurrent 30 MiB uploads.
    expect(bytesOf(resourcesOf(container, 'limits', 'memory'))).toBeGreaterThanOrEqual(1.5 * 235 * MIB);
  });

  it('meets the restricted Pod Security Standard, as the uid the image runs as', () => {
    expectRestricted(pod, APP);
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    const imageUid = Number(/^USER\s+(\d+)/m.exec(dockerfile)?.[1]);
    expect(pod.securityContext?.runAsUser).toBe(imageUid);
  });

  it('mounts an emptyDir at /tmp that holds the worst-case buffered spool', () => {
    const mount = container.volumeMounts!.find((m) => m.mountPath === '/tmp')!;
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    expect(volume.emptyDir).toBeDefined();
    // On disk: a memory-backed spool would count against the memory limit.
    expect(volume.emptyDir!.medium ?? '').toBe('');
    expect(config.TMPDIR).toBe('/tmp');
    const worstCase = configNumber('MAX_CONCURRENT_UPLOADS') * largestTypeLimit;
    const sizeLimit = bytesOf(volume.emptyDir!.sizeLimit);
    expect(sizeLimit).toBeGreaterThanOrEqual(worstCase);
    // Exceeding a pod's ephemeral-storage limit evicts it: the limit must hold the whole spool.
    expect(bytesOf(resourcesOf(container, 'limits', 'ephemeral-storage'))).toBeGreaterThan(sizeLimit);
  });

  it('mounts one ReadWriteMany volume at RESUMABLE_DIR for every replica, large enough for the disk bound', () => {
    const mount = container.volumeMounts!.find((m) => m.mountPath === config.RESUMABLE_DIR)!;
    expect(mount).toBeDefined();
    expect(mount.readOnly ?? false).toBe(false);
    const volume = pod.volumes!.find((v) => v.name === mount.name)!;
    // Any chunk of an upload may reach any pod: a per-pod emptyDir would lose it.
    expect(volume.emptyDir).toBeUndefined();
    const claim = findObject(manifests, PersistentVolumeClaim, volume.persistentVolumeClaim!.claimName);
    expect(claim.spec!.accessModes).toEqual(['ReadWriteMany']);
    expect(bytesOf(claim.spec!.resources!.requests!.storage)).toBeGreaterThan(configNumber('RESUMABLE_MAX_DISK_BYTES'));
    // The pods share uploads, so they must share their locks too.
    expect(config.REDIS_URL).toMatch(/^redis:\/\//);
  });

  it('spreads replicas across nodes', () => {
    const byHost = pod.topologySpreadConstraints!.find((t) => t.topologyKey === 'kubernetes.io/hostname')!;
    expect(byHost.maxSkew).toBe(1);
    expect(labelsMatch(byHost.labelSelector?.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
  });

  it('pauses in preStop, then gives the service its whole shutdown grace before SIGKILL', () => {
    const command = container.lifecycle?.preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    const pauseSeconds = Number(command[1]);
    expect(pauseSeconds).toBeGreaterThanOrEqual(3);
    const graceSeconds = configNumber('SHUTDOWN_GRACE_MS') / 1000;
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(pauseSeconds + graceSeconds);
  });

  it('takes HEYGEN_API_KEY from a Secret and everything else from the ConfigMap', () => {
    const key = container.env!.find((e) => e.name === 'HEYGEN_API_KEY')!;
    expect(key.value).toBeUndefined();
    expect(key.valueFrom?.secretKeyRef).toMatchObject({ name: APP, key: 'HEYGEN_API_KEY' });
    expect(key.valueFrom?.secretKeyRef?.optional ?? false).toBe(false);
    expect(container.envFrom).toEqual([{ configMapRef: { name: APP } }]);
    // No literal values in the pod spec: settings live in the ConfigMap, secrets in the Secret.
    expect(container.env!.filter((e) => e.value !== undefined)).toEqual([]);
  });
});

describe('ConfigMap heygen-upload-proxy', () => {
  it('uses only the service’s pinned variable names and holds no secret', () => {
    for (const key of Object.keys(config)) expect({ key, pinned: PINNED_ENV.has(key) }).toEqual({ key, pinned: true });
    for (const key of SECRET_ENV) expect(config[key]).toBeUndefined();
  });

  it('trusts exactly one proxy hop (the gateway’s proxy)', () => {
    expect(config.TRUST_PROXY).toBe('1');
  });

  it('points REDIS_URL at the Redis Service of these manifests', () => {
    const redisService = findObject(manifests, Service, REDIS);
    const url = new URL(config.REDIS_URL!);
    expect(url.protocol).toBe('redis:');
    expect(url.hostname).toBe(nameOf(redisService as unknown as Record<string, unknown>));
    expect(Number(url.port)).toBe(redisService.spec!.ports![0]!.port);
  });
});

describe('no secret committed', () => {
  it('declares no Secret object: the key is created with kubectl create secret (README)', () => {
    expect(manifests.filter(({ object }) => object.kind === 'Secret').map(({ file }) => file)).toEqual([]);
  });

  it('gives no container a literal value for a secret variable', () => {
    for (const d of objectsOfKind(manifests, Deployment)) {
      for (const c of d.spec!.template.spec!.containers) {
        for (const e of c.env ?? []) {
          if (SECRET_ENV.includes(e.name)) expect({ name: e.name, value: e.value }).toEqual({ name: e.name, value: undefined });
        }
      }
    }
  });
});

describe('Service', () => {
  const service = findObject(manifests, Service, APP);

  it('selects the Deployment’s pods and targets the named container port', () => {
    expect(labelsMatch(service.spec!.selector, deployment.spec!.template.metadata!.labels)).toBe(true);
    const targetPort = service.spec!.ports![0]!.targetPort;
    expect(container.ports!.map((p) => p.name)).toContain(targetPort);
  });
});

// The Gateway API route and the gateway policies: gateway.test.ts; the Ingress variant's
// ingress-nginx annotations: ingress-variant.test.ts.

describe('HorizontalPodAutoscaler and PodDisruptionBudget', () => {
  it('scales the Deployment between at least 2 and more replicas', () => {
    const hpa = findObject(manifests, HorizontalPodAutoscaler, APP);
    expect(hpa.spec!.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: APP });
    expect(hpa.spec!.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec!.maxReplicas).toBeGreaterThan(hpa.spec!.minReplicas!);
    // Utilisation targets are relative to the CPU request, which must therefore exist.
    expect(hpa.spec!.metrics!.map((m) => m.resource?.name)).toContain('cpu');
    expect(resourcesOf(container, 'requests', 'cpu')).toBeDefined();
  });

  it('keeps at least one replica through voluntary disruptions', () => {
    const pdb = findObject(manifests, PodDisruptionBudget, APP);
    expect(labelsMatch(pdb.spec!.selector?.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
    expect(pdb.spec!.maxUnavailable).toBe(1);
    expect(deployment.spec!.replicas! - 1).toBeGreaterThanOrEqual(1);
  });
});

describe('NetworkPolicy heygen-upload-proxy', () => {
  const policy = findObject(manifests, NetworkPolicy, APP);
  const redisPods = findObject(manifests, Deployment, REDIS).spec!.template.metadata!.labels;

  it('applies to the service’s pods, for both directions', () => {
    expect(labelsMatch(policy.spec!.podSelector.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
    expect([...policy.spec!.policyTypes!].sort()).toEqual(['Egress', 'Ingress']);
  });

  it('admits traffic only from one namespace (the Gateway’s, filled in by kustomize), on the service port', () => {
    expect(policy.spec!.ingress).toHaveLength(1);
    const [rule] = policy.spec!.ingress!;
    // The value is a placeholder here; gateway.test.ts checks the rendered one is the Gateway's namespace.
    expect(rule!.from).toHaveLength(1);
    expect(Object.keys(rule!.from![0]!)).toEqual(['namespaceSelector']);
    expect(Object.keys(rule!.from![0]!.namespaceSelector!.matchLabels!)).toEqual(['kubernetes.io/metadata.name']);
    expect(rule!.ports).toEqual([{ protocol: 'TCP', port: configNumber('PORT') }]);
  });

  it('lets out only DNS, HTTPS to public addresses and Redis', () => {
    const egress = policy.spec!.egress!;
    // Every rule names its ports and its peers: no rule opens everything.
    for (const rule of egress) {
      expect(rule.ports?.length).toBeGreaterThan(0);
      expect(rule.to?.length).toBeGreaterThan(0);
    }
    const ports = egress.flatMap((rule) => rule.ports!.map((p) => `${p.protocol}/${p.port}`)).sort();
    expect(ports).toEqual(['TCP/443', 'TCP/53', 'TCP/6379', 'UDP/53']);

    const dns = egress.find((rule) => rule.ports!.some((p) => p.port === 53))!;
    expect(dns.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);

    const https = egress.find((rule) => rule.ports!.some((p) => p.port === 443))!;
    const ipv4 = https.to!.find((peer) => peer.ipBlock?.cidr === '0.0.0.0/0')!;
    for (const privateRange of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16']) {
      expect(ipv4.ipBlock!.except).toContain(privateRange);
    }
    expect(https.to!.every((peer) => peer.ipBlock !== undefined)).toBe(true);

    const redis = egress.find((rule) => rule.ports!.some((p) => p.port === 6379))!;
    expect(redis.to).toHaveLength(1);
    expect(labelsMatch(redis.to![0]!.podSelector?.matchLabels, redisPods)).toBe(true);
  });
});

describe('Redis for shared rate limits', () => {
  const redis = findObject(manifests, Deployment, REDIS);
  const policy = findObject(manifests, NetworkPolicy, REDIS);

  it('runs restricted, with limits, and a Service selecting it', () => {
    const spec = redis.spec!.template.spec!;
    expectRestricted(spec, REDIS);
    for (const c of spec.containers) {
      expect(resourcesOf(c, 'limits', 'memory')).toBeDefined();
      expect(resourcesOf(c, 'limits', 'cpu')).toBeDefined();
    }
    const service = findObject(manifests, Service, REDIS);
    expect(labelsMatch(service.spec!.selector, redis.spec!.template.metadata!.labels)).toBe(true);
  });

  it('accepts connections only from the service’s pods and opens none itself', () => {
    expect(labelsMatch(policy.spec!.podSelector.matchLabels, redis.spec!.template.metadata!.labels)).toBe(true);
    expect([...policy.spec!.policyTypes!].sort()).toEqual(['Egress', 'Ingress']);
    expect(policy.spec!.ingress).toHaveLength(1);
    expect(labelsMatch(policy.spec!.ingress![0]!.from![0]!.podSelector?.matchLabels, deployment.spec!.template.metadata!.labels)).toBe(true);
    expect(policy.spec!.egress ?? []).toEqual([]);
  });
});
