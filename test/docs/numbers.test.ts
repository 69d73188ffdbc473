import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, type Config, MIB, VARIABLES } from '../../src/config';
import { BUSY_RETRY_AFTER_SECONDS } from '../../src/http/concurrency-gate';
import { CLIENT_UPLOADS_RETRY_AFTER_SECONDS } from '../../src/http/client-uploads/client-upload-cap';
import { EARLY_ANSWER_DRAIN_BYTES, EARLY_ANSWER_DRAIN_MS } from '../../src/http/early-answer';
import { OUTSIDE_FILE_BYTES_BUDGET } from '../../src/intake/multipart/form-limits';
import { SPOOL_MEMORY_BYTES } from '../../src/upload/spool';
import { DETECTION_BYTES } from '../../src/upload/detect-media-type';
import { S3_MIN_PART_BYTES, S3_PART_BYTES } from '../../src/intake/resumable/s3-backing-store';
import { fileTooLarge } from '../../src/upload/admission';
import { STORE_REFUSAL_RETRY_AFTER_SECONDS } from '../../src/intake/resumable/resumable-intake';
import { UPLOAD_LEASE_TTL_MS } from '../../src/http/client-uploads/create-upload-lease-store';
import { IDEMPOTENCY_CONFLICT_RETRY_AFTER_SECONDS } from '../../src/http/idempotency/idempotency-guard';
import {
  IDEMPOTENCY_COMPLETED_TTL_MS,
  IDEMPOTENCY_IN_FLIGHT_REFRESH_MS,
  IDEMPOTENCY_IN_FLIGHT_TTL_MS,
} from '../../src/http/idempotency/idempotency-store';
import { leasedCompletionClaims } from '../../src/intake/resumable/completion-claims';
import { RedisLocker } from '../../src/intake/resumable/redis-locker';
import { FALLBACK_POLICY } from '../../src/state/fallback-policy';
import type { LeaseOptions, LeaseStore } from '../../src/state/lease';
import { DEFAULT_TOKEN_TTL_SECONDS } from '../../examples/token-server/upload-token-route';
import { gatewayDurationMs, uploadTiming } from '../deploy/support/upload-timing';
import { REPO_ROOT, readDoc, withoutCodeBlocks } from './support/markdown';

const IDEMPOTENCY_STORE_TIMEOUT_MS = FALLBACK_POLICY.idempotency.answerWithinMs;
const RATE_LIMIT_STORE_TIMEOUT_MS = FALLBACK_POLICY.rateLimit.answerWithinMs;
/** A lease's heartbeat, unless its holder says otherwise: a third of its TTL (state/held-lease.ts). */
const UPLOAD_LEASE_REFRESH_MS = UPLOAD_LEASE_TTL_MS / 3;

/** The TTL the resumable intake's tus lock takes, as the service builds it (dependencies.ts: no options). */
const TUS_LOCK_TTL_MS = new RedisLocker(unusedLeaseStore()).ttlMs;

/** The TTL a completion claim asks its lease store for, captured from the claim itself. */
const COMPLETION_CLAIM_TTL_MS = ((): number => {
  let asked: LeaseOptions | undefined;
  const recording: LeaseStore = {
    ...unusedLeaseStore(),
    acquire: (_key, options) => {
      asked = options;
      return Promise.resolve(undefined);
    },
  };
  void leasedCompletionClaims(recording).claim('0123456789abcdef0123456789abcdef');
  if (asked === undefined) throw new Error('a completion claim took no lease');
  return asked.ttlMs;
})();

function unusedLeaseStore(): LeaseStore {
  const unused = (): never => {
    throw new Error('not used by the docs test');
  };
  return { acquire: unused, acquireSlot: unused, isHeld: unused, heldSlots: unused };
}

/**
 * The numbers the documentation states are the numbers of the code and the manifests. Defaults come
 * from src/config.ts itself (loaded with nothing but a key), lease times and Retry-Afters from the
 * modules that use them, the deployment's numbers from the YAML in k8s/base (and the Ingress
 * variant), memory figures from BENCHMARKS.md. Each claim is a pattern on one page: every match must carry
 * the source's value, and at least one must exist, so a changed default, manifest or benchmark fails
 * here until the page says the new number.
 */
const v3 = loadConfig({ HEYGEN_API_KEY: 'docs-test-key' });
const v1 = loadConfig({ HEYGEN_API_KEY: 'docs-test-key', HEYGEN_API: 'v1' });

// ---- the manifests --------------------------------------------------------------------------------

type Node = Record<string, unknown>;

function readYaml(file: string): Node[] {
  return parseAllDocuments(readFileSync(path.join(REPO_ROOT, file), 'utf8'))
    .map((doc) => doc.toJS() as Node)
    .filter((object) => object !== null && object !== undefined);
}

/**
 * The default deployment (`kubectl apply -k k8s`): k8s/kustomization.yaml renders k8s/base as it is
 * (checked below), so its objects are those of the files k8s/base/kustomization.yaml lists, read
 * in-process. The Ingress variant's Ingress is read from k8s/variants/ingress, where it lives.
 */
const defaultKustomization = readYaml('k8s/kustomization.yaml')[0]!;
const baseResources = readYaml('k8s/base/kustomization.yaml')[0]!.resources as string[];
const manifests: Node[] = [...baseResources.map((file) => `k8s/base/${file}`), 'k8s/variants/ingress/ingress.yaml'].flatMap(readYaml);

it('reads the default deployment from k8s/base, which k8s/kustomization.yaml renders unchanged', () => {
  expect(Object.keys(defaultKustomization).sort()).toEqual(['apiVersion', 'kind', 'resources']);
  expect(defaultKustomization.resources).toEqual(['base']);
  expect(baseResources).toEqual(expect.arrayContaining(['configmap.yaml', 'deployment.yaml', 'httproute.yaml', 'resumable-pvc.yaml']));
});

/** The value at a dotted path (numbers index arrays); throws when the manifest has no such field. */
function at(object: unknown, dotted: string): unknown {
  let value: unknown = object;
  for (const key of dotted.split('.')) {
    if (value === null || typeof value !== 'object') throw new Error(`no ${dotted} in the manifest`);
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined) throw new Error(`no ${dotted} in the manifest`);
  return value;
}

function manifest(kind: string, name = 'heygen-upload-proxy'): Node {
  const found = manifests.find((object) => object.kind === kind && at(object, 'metadata.name') === name);
  if (!found) throw new Error(`k8s/base (or the Ingress variant) has no ${kind} ${name}`);
  return found;
}

const configMap = at(manifest('ConfigMap'), 'data') as Record<string, string>;
const deployment = manifest('Deployment');
const podSpec = at(deployment, 'spec.template.spec') as Node;
const server = (at(podSpec, 'containers') as Node[]).find((container) => container.name === 'server')!;
const redis = (at(manifest('Deployment', 'heygen-upload-proxy-redis'), 'spec.template.spec.containers') as Node[])[0]!;
const annotations = at(manifest('Ingress'), 'metadata.annotations') as Record<string, string>;
const nginx = (name: string): string => annotations[`nginx.ingress.kubernetes.io/${name}`] ?? `(no ${name})`;
const hpa = manifest('HorizontalPodAutoscaler');
const spool = (at(podSpec, 'volumes') as Node[]).find((volume) => volume.name === 'tmp')!;
const cm = (key: string): number => Number(configMap[key]);
const largestConfigMapLimit = Math.max(cm('MAX_IMAGE_BYTES'), cm('MAX_VIDEO_BYTES'), cm('MAX_AUDIO_BYTES'));
const redisArgs = at(redis, 'args') as string[];
const preStopSleep = Number((at(server, 'lifecycle.preStop.exec.command') as string[])[1]);
/** The HTTPRoute's rule for the uploads (/v1/asset, /v1/uploads) and the route timeout derived for it. */
const uploadRule = (at(manifest('HTTPRoute'), 'spec.rules') as Node[]).find((rule) =>
  (at(rule, 'matches') as Node[]).some((match) => at(match, 'path.value') === '/v1/asset'),
)!;
const routeTimeout = String(at(uploadRule, 'timeouts.request'));
const timing = uploadTiming(loadConfig({ ...configMap, HEYGEN_API_KEY: 'docs-test-key' }));

it('reads an upload route timeout that covers the derivation the docs state', () => {
  expect(gatewayDurationMs(routeTimeout)).toBeGreaterThanOrEqual(timing.minRequestTimeoutMs);
});

// ---- the benchmarks -----------------------------------------------------------------------------

/** The worst peak RSS (the "(max)" figure) of a project row in one section of BENCHMARKS.md. */
function benchWorstPeak(sectionTitle: string, mode: 'buffered' | 'streaming'): string {
  const text = readFileSync(path.join(REPO_ROOT, 'BENCHMARKS.md'), 'utf8');
  const section = text.split(/^## /m).find((part) => part.startsWith(sectionTitle));
  const row = section?.split('\n').find((line) => line.includes(`project, HEYGEN_API=v1, UPSTREAM_MODE=${mode} |`));
  const worst = row && /MB \(([\d.]+) MB\)/.exec(row);
  if (!worst) throw new Error(`BENCHMARKS.md: no ${mode} row with a peak in "${sectionTitle}"`);
  return worst[1]!;
}

// ---- the claims ---------------------------------------------------------------------------------

const commas = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): string => String(bytes / MIB);
const seconds = (ms: number): string => String(ms / 1000);
const engines = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;

interface Claim {
  readonly file: string;
  /** Each capture group is one stated number; the flag g is added. */
  readonly pattern: RegExp;
  readonly expected: readonly (string | number)[];
}

const CLAIMS: readonly Claim[] = [
  // Node's version, from package.json's engines.
  ...['README.md', 'docs/deploying.md', 'docs/testing.md'].map((file) => ({
    file,
    pattern: /Node\.js ([\d.]+)\s+or\s+later/,
    expected: [engines.replace(/^>=/, '')],
  })),

  // Configuration defaults, src/config.ts.
  {
    file: 'README.md',
    pattern: /`MAX_IMAGE_BYTES`, `MAX_VIDEO_BYTES`, `MAX_AUDIO_BYTES` \| `(\d+)`, `(\d+)`, `(\d+)`/,
    expected: [v3.maxBytes.image, v3.maxBytes.video, v3.maxBytes.audio],
  },
  {
    file: 'README.md',
    pattern: /`RATE_LIMIT_MAX` \| `(\d+)` \| uploads per client per (\w+)/,
    expected: [v3.rateLimitMax, v3.rateLimitWindowMs === 60_000 ? 'minute' : `${v3.rateLimitWindowMs} ms`],
  },
  {
    file: 'docs/api.md',
    pattern: /"kind": "image", "max_bytes": (\d+)/,
    expected: [v3.maxBytes.image],
  },
  {
    file: 'docs/api.md',
    pattern: /"kind": "video", "max_bytes": (\d+)/,
    expected: [v3.maxBytes.video],
  },
  {
    file: 'docs/api.md',
    pattern: /"kind": "audio", "max_bytes": (\d+)/,
    expected: [v3.maxBytes.audio],
  },
  {
    file: 'docs/api.md',
    pattern: /"max_bytes": \{ "image": (\d+), "video": (\d+), "audio": (\d+) \}/,
    expected: [v3.maxBytes.image, v3.maxBytes.video, v3.maxBytes.audio],
  },
  {
    file: 'docs/api.md',
    pattern: /"message": "(Video files may be at most [^"]*)"/,
    expected: [fileTooLarge(v3.maxBytes, 'video').message],
  },
  {
    file: 'docs/api.md',
    pattern: /Default limits: images and audio ([\d,]+) bytes[\s\S]*?video ([\d,]+) bytes \(the (\d+) MiB/,
    expected: [commas(v3.maxBytes.image), commas(v3.maxBytes.video), mib(v3.maxBytes.video)],
  },
  {
    file: 'docs/api.md',
    pattern: /Default limit: ([\d,]+) bytes \((\d+) MiB\) for every type/,
    expected: [commas(v1.maxBytes.video), mib(v1.maxBytes.video)],
  },
  {
    file: 'docs/api.md',
    pattern: /successful upload within (\d+) hours[\s\S]*?cannot answer within (\d+) s/,
    expected: [IDEMPOTENCY_COMPLETED_TTL_MS / 3_600_000, seconds(IDEMPOTENCY_STORE_TIMEOUT_MS)],
  },
  {
    file: 'docs/configuration.md',
    pattern: /\| `v3` \(default\) \| ([\d,]+) bytes \| ([\d,]+) bytes \((\d+) MiB\) \| ([\d,]+) bytes \|/,
    expected: [commas(v3.maxBytes.image), commas(v3.maxBytes.video), mib(v3.maxBytes.video), commas(v3.maxBytes.audio)],
  },
  {
    file: 'docs/configuration.md',
    pattern: /\| `v1` \| ([\d,]+) bytes \((\d+) MiB\) \| ([\d,]+) bytes \((\d+) MiB\) \| ([\d,]+) bytes \((\d+) MiB\) \|/,
    expected: [v1.maxBytes.image, v1.maxBytes.image, v1.maxBytes.video, v1.maxBytes.video, v1.maxBytes.audio, v1.maxBytes.audio].map(
      (bytes, index) => (index % 2 === 0 ? commas(bytes) : mib(bytes)),
    ),
  },
  {
    file: 'docs/configuration.md',
    pattern: /\(v1: `(\d+)`\)/,
    expected: [v1.maxBytes.image],
  },
  {
    file: 'docs/configuration.md',
    pattern: /`REQUEST_TIMEOUT_MS` \((\d+) minutes by default\)[\s\S]*?largest default\s+file \((\d+) MiB of video\) within it needs about (\d+) KB\/s/,
    expected: [
      v3.requestTimeoutMs / 60_000,
      mib(v3.maxBytes.video),
      Math.round(v3.maxBytes.video / (v3.requestTimeoutMs / 1000) / 10_000) * 10,
    ],
  },
  {
    file: 'docs/configuration.md',
    pattern: /default minimum rate \((\d+) KiB\/s averaged over (\d+) s/,
    expected: [v3.clientMinBytesPerSecond / 1024, seconds(v3.clientMinRateWindowMs)],
  },
  {
    file: 'docs/production.md',
    pattern: /\((\d+) a (minute) by\s+default\)/,
    expected: [v3.rateLimitMax, v3.rateLimitWindowMs === 60_000 ? 'minute' : `${v3.rateLimitWindowMs} ms`],
  },
  {
    file: 'docs/production.md',
    pattern: /`MAX_UPLOADS_PER_CLIENT` uploads in progress for one client \((\d+) by\s+default\)/,
    expected: [v3.maxUploadsPerClient],
  },
  {
    file: 'docs/production.md',
    pattern: /`MAX_CONCURRENT_UPLOADS` uploads in progress on a replica \((\d+) by\s+default\)/,
    expected: [v3.maxConcurrentUploads],
  },
  {
    file: 'docs/production.md',
    pattern: /The default, (\d+) KiB\/s over (\d+) s/,
    expected: [v3.clientMinBytesPerSecond / 1024, seconds(v3.clientMinRateWindowMs)],
  },
  {
    file: 'docs/production.md',
    pattern: /\((\d+) × (\d+) MiB with the defaults\)/,
    expected: [v3.maxConcurrentUploads, mib(Math.max(...Object.values(v3.maxBytes)))],
  },
  {
    file: 'docs/resumable.md',
    pattern: /`RESUMABLE_EXPIRY_MS` after its creation \((\d+) h by default\)[\s\S]*?`RESUMABLE_CLEANUP_INTERVAL_MS` \((\d+) min\)[\s\S]*?`RESUMABLE_MAX_DISK_BYTES` \((\d+) GiB\)/,
    expected: [v3.resumableExpiryMs / 3_600_000, v3.resumableCleanupIntervalMs / 60_000, v3.resumableMaxDiskBytes / 1024 ** 3],
  },

  {
    file: 'docs/resumable.md',
    pattern: /multipart upload of\s+(\d+) MiB parts[\s\S]*?needs up\s+to (\d+) MiB of temporary disk[\s\S]*?\((\d+) × (\d+) MiB = (\d+) MiB with the defaults/,
    expected: [
      S3_PART_BYTES / MIB,
      (S3_PART_BYTES + S3_MIN_PART_BYTES) / MIB,
      v3.maxConcurrentUploads,
      (S3_PART_BYTES + S3_MIN_PART_BYTES) / MIB,
      (v3.maxConcurrentUploads * (S3_PART_BYTES + S3_MIN_PART_BYTES)) / MIB,
    ],
  },
  {
    file: 'docs/resumable.md',
    pattern: /takes the first (\d+) bytes as they stream through the write/,
    expected: [DETECTION_BYTES],
  },

  // Fixed numbers, beside the code that uses them.
  {
    file: 'docs/production.md',
    pattern: /`TOO_MANY_UPLOADS_IN_PROGRESS` with `Retry-After: (\d+)`/,
    expected: [CLIENT_UPLOADS_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/production.md',
    pattern: /`SERVER_BUSY` with `Retry-After: (\d+)`/,
    expected: [BUSY_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/production.md',
    pattern: /refreshed every (\d+) s and removed when it ends; a replica\s+that dies mid-upload leaves leases that expire within (\d+) s/,
    expected: [seconds(UPLOAD_LEASE_REFRESH_MS), seconds(UPLOAD_LEASE_TTL_MS)],
  },
  {
    file: 'docs/production.md',
    pattern: /slower than (\d+) ms counts as down/,
    expected: [RATE_LIMIT_STORE_TIMEOUT_MS],
  },
  {
    file: 'docs/production.md',
    pattern: /\(about (\d+) KiB\) the upload is refused at once/,
    expected: [Math.round(OUTSIDE_FILE_BYTES_BUDGET / 1024)],
  },
  ...['docs/production.md', 'docs/browser.md'].map((file) => ({
    file,
    pattern: /up to (\d+) MiB or (\d+) s/,
    expected: [mib(EARLY_ANSWER_DRAIN_BYTES), seconds(EARLY_ANSWER_DRAIN_MS)],
  })),
  {
    file: 'docs/production.md',
    pattern: /spooled \(in memory up to (\d+) MiB/,
    expected: [mib(SPOOL_MEMORY_BYTES)],
  },

  // The manifests, k8s/.
  {
    file: 'docs/deploying.md',
    pattern: /v3's default limits \(images and audio\s+([\d,]+) bytes, video ([\d,]+)\) and sets `MAX_CONCURRENT_UPLOADS: "(\d+)"`/,
    expected: [commas(cm('MAX_IMAGE_BYTES')), commas(cm('MAX_VIDEO_BYTES')), configMap.MAX_CONCURRENT_UPLOADS!],
  },
  {
    file: 'docs/deploying.md',
    pattern: /(\d+) × (\d+) MiB = ([\d,]+) MiB, so the\s+volume's `sizeLimit` is `(\w+)`/,
    expected: [cm('MAX_CONCURRENT_UPLOADS'), mib(largestConfigMapLimit), commas((cm('MAX_CONCURRENT_UPLOADS') * largestConfigMapLimit) / MIB), String(at(spool, 'emptyDir.sizeLimit'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /`ephemeral-storage` is\s+requested at `(\w+)` and limited to `(\w+)`/,
    expected: [String(at(server, 'resources.requests.ephemeral-storage')), String(at(server, 'resources.limits.ephemeral-storage'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /requests `cpu: (\w+), memory: (\w+)`, limits `cpu: (\w+), memory: (\w+)`/,
    expected: ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'].map((field) => String(at(server, `resources.${field}`))),
  },
  {
    file: 'docs/deploying.md',
    pattern: /`proxy-body-size: (\w+)` is the largest type limit \((\d+) MiB\)/,
    expected: [nginx('proxy-body-size'), mib(largestConfigMapLimit)],
  },
  {
    file: 'docs/deploying.md',
    pattern: /`proxy-send-timeout: "(\d+)"` outlasts `CLIENT_IDLE_TIMEOUT_MS` \((\d+) s\)/,
    expected: [nginx('proxy-send-timeout'), seconds(cm('CLIENT_IDLE_TIMEOUT_MS'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /`proxy-read-timeout: "(\d+)"`[\s\S]*?up to\s+(\d+) MiB to HeyGen's storage\) and matches `REQUEST_TIMEOUT_MS`/,
    expected: [nginx('proxy-read-timeout'), mib(cm('MAX_VIDEO_BYTES'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /`preStop` sleeps (\d+) s[\s\S]*?service's (\d+) s `SHUTDOWN_GRACE_MS`[\s\S]*?`terminationGracePeriodSeconds: (\d+)` leaves\s+(\d+) s to spare/,
    expected: [
      preStopSleep,
      seconds(cm('SHUTDOWN_GRACE_MS')),
      Number(at(podSpec, 'terminationGracePeriodSeconds')),
      Number(at(podSpec, 'terminationGracePeriodSeconds')) - preStopSleep - cm('SHUTDOWN_GRACE_MS') / 1000,
    ],
  },
  {
    file: 'docs/deploying.md',
    pattern: /a startup probe giving the process (\d+) s/,
    expected: [Number(at(server, 'startupProbe.periodSeconds')) * Number(at(server, 'startupProbe.failureThreshold'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /ReadWriteMany,\s+`(\w+)` for a `RESUMABLE_MAX_DISK_BYTES` of (\d+) GiB/,
    expected: [String(at(manifest('PersistentVolumeClaim', 'heygen-upload-proxy-resumable'), 'spec.resources.requests.storage')), cm('RESUMABLE_MAX_DISK_BYTES') / 1024 ** 3],
  },
  {
    file: 'docs/deploying.md',
    pattern: /`--maxmemory (\w+)` with `([\w-]+)` eviction/,
    expected: [redisArgs[redisArgs.indexOf('--maxmemory') + 1]!, redisArgs[redisArgs.indexOf('--maxmemory-policy') + 1]!],
  },
  {
    file: 'docs/deploying.md',
    pattern: /autoscaling from (\d+) to (\d+) replicas/,
    expected: [Number(at(hpa, 'spec.minReplicas')), Number(at(hpa, 'spec.maxReplicas'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /the service: (\d+) replicas spread over nodes/,
    expected: [Number(at(deployment, 'spec.replicas'))],
  },
  {
    file: 'docs/deploying.md',
    pattern: /resets the replica count to (\d+)/,
    expected: [Number(at(deployment, 'spec.replicas'))],
  },

  // The resumable store's bounds (src/config.ts) and its refusals' Retry-After.
  {
    file: 'docs/resumable.md',
    pattern: /\| `RESUMABLE_MAX_DISK_BYTES` \| (\d+) GiB \| [^|]+ \| 507 `STORAGE_FULL`, `Retry-After: (\d+)` \|/,
    expected: [v3.resumableMaxDiskBytes / 1024 ** 3, STORE_REFUSAL_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/resumable.md',
    pattern: /\| `RESUMABLE_MAX_BYTES_PER_CLIENT` \| (\d+) GiB \| [^|]+ \| 429 `TOO_MANY_UNFINISHED_UPLOADS`, `Retry-After: (\d+)` \|/,
    expected: [v3.resumableMaxBytesPerClient / 1024 ** 3, STORE_REFUSAL_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/resumable.md',
    pattern: /\| `MAX_RESUMABLE_UPLOADS_PER_CLIENT` \| (\d+) \| [^|]+ \| 429 `TOO_MANY_UNFINISHED_UPLOADS`, `Retry-After: (\d+)` \|/,
    expected: [v3.maxResumableUploadsPerClient, STORE_REFUSAL_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/resumable.md',
    pattern: /With the share at a (tenth) of the store, at least (\w+) distinct/,
    expected: [
      v3.resumableMaxDiskBytes / v3.resumableMaxBytesPerClient === 10 ? 'tenth' : `1/${v3.resumableMaxDiskBytes / v3.resumableMaxBytesPerClient}`,
      v3.resumableMaxDiskBytes / v3.resumableMaxBytesPerClient === 10 ? 'ten' : String(v3.resumableMaxDiskBytes / v3.resumableMaxBytesPerClient),
    ],
  },
  {
    file: 'docs/configuration.md',
    pattern: /the declared lengths of all unfinished resumable uploads together \((\d+) GiB\)/,
    expected: [v3.resumableMaxDiskBytes / 1024 ** 3],
  },
  {
    file: 'docs/configuration.md',
    pattern: /the declared lengths of its unfinished uploads \((\d+) GiB, raised/,
    expected: [v3.resumableMaxBytesPerClient / 1024 ** 3],
  },
  {
    file: 'docs/browser.md',
    pattern: /signed HS256 with the shared secret, living (\d+) seconds unless you choose/,
    expected: [DEFAULT_TOKEN_TTL_SECONDS],
  },
  {
    file: 'docs/browser.md',
    pattern: /\((\d+) by default, and (\d+) GiB of declared size\)/,
    expected: [v3.maxResumableUploadsPerClient, v3.resumableMaxBytesPerClient / 1024 ** 3],
  },

  // Leases (state/ and their users) and the idempotency conflict's Retry-After.
  {
    file: 'docs/production.md',
    pattern: /per-client caps' leases \((\d+) s,/,
    expected: [seconds(UPLOAD_LEASE_TTL_MS)],
  },
  {
    file: 'docs/production.md',
    pattern: /an in-flight marker while the first request runs\s+\((\d+) s, refreshed every (\d+) s; a repeat meanwhile gets 409 `IDEMPOTENCY_CONFLICT` with\s+`Retry-After: (\d+)`\)/,
    expected: [seconds(IDEMPOTENCY_IN_FLIGHT_TTL_MS), seconds(IDEMPOTENCY_IN_FLIGHT_REFRESH_MS), IDEMPOTENCY_CONFLICT_RETRY_AFTER_SECONDS],
  },
  {
    file: 'docs/production.md',
    pattern: /the resumable uploads' locks \((\d+) s\)[\s\S]*?completion claims \((\d+) s\)/,
    expected: [seconds(TUS_LOCK_TTL_MS), seconds(COMPLETION_CLAIM_TTL_MS)],
  },
  {
    file: 'docs/production.md',
    pattern: /A replica that dies frees what it held within about (\d+) s\s+\(a per-client slot within (\d+) s\)/,
    expected: [seconds(Math.max(IDEMPOTENCY_IN_FLIGHT_TTL_MS, TUS_LOCK_TTL_MS, COMPLETION_CLAIM_TTL_MS)), seconds(UPLOAD_LEASE_TTL_MS)],
  },
  {
    file: 'docs/api.md',
    pattern: /409 `IDEMPOTENCY_CONFLICT` with `Retry-After: (\d+)`:\s+wait and retry \(if the first request's replica died, its claim on the key lapses within (\d+) s\)/,
    expected: [IDEMPOTENCY_CONFLICT_RETRY_AFTER_SECONDS, seconds(IDEMPOTENCY_IN_FLIGHT_TTL_MS)],
  },
  {
    file: 'docs/resumable.md',
    pattern: /completion\s+claim \(a lease of (\d+) s,/,
    expected: [seconds(COMPLETION_CLAIM_TTL_MS)],
  },
  {
    file: 'docs/resumable.md',
    pattern: /a lock in Redis \(a lease of (\d+) s:/,
    expected: [seconds(TUS_LOCK_TTL_MS)],
  },

  // The Gateway API route, k8s/base/httproute.yaml, and its derivation from the ConfigMap's config.
  {
    file: 'docs/deploying.md',
    pattern: /has `timeouts\.request: (\w+)`:\s+the body may take `REQUEST_TIMEOUT_MS` \((\d+) s\)[\s\S]*?retries' pauses, (\d+) s\); (\d+) \+ (\d+) = (\d+) s/,
    expected: [
      routeTimeout,
      seconds(timing.bodyMs),
      seconds(timing.answerMs),
      seconds(timing.bodyMs),
      seconds(timing.answerMs),
      seconds(timing.minRequestTimeoutMs),
    ],
  },

  // Memory, BENCHMARKS.md.
  {
    file: 'docs/production.md',
    pattern: /one 1 GiB upload peaks at ([\d.]+) MB buffered and ([\d.]+) MB\s+streaming; 16 concurrent 64 MiB uploads at ([\d.]+) MB and ([\d.]+) MB/,
    expected: [
      benchWorstPeak('one 1 GiB upload', 'buffered'),
      benchWorstPeak('one 1 GiB upload', 'streaming'),
      benchWorstPeak('16 concurrent 64 MiB uploads', 'buffered'),
      benchWorstPeak('16 concurrent 64 MiB uploads', 'streaming'),
    ],
  },
];

describe.each(CLAIMS.map((claim) => [`${claim.file}: ${claim.pattern.source.slice(0, 70)}`, claim] as const))('%s', (_name, claim) => {
  it('states the number of its source wherever it states it', () => {
    const text = withoutCodeBlocks(readDoc(claim.file)) + readCodeBlocks(claim.file);
    const matches = [...text.matchAll(new RegExp(claim.pattern.source, 'g'))];
    expect(matches.length).toBeGreaterThan(0);
    for (const match of matches) expect(match.slice(1)).toEqual(claim.expected.map(String));
  });
});

/** Code blocks hold stated numbers too (the /v1/limits example); the prose check above sees both. */
function readCodeBlocks(file: string): string {
  const text = readDoc(file);
  return [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((block) => block[1]!).join('\n');
}

// ---- every variable, with its default -----------------------------------------------------------

/** What each variable of .env.example becomes in the Config; undefined when it has no default. */
const CONFIG_OF: Readonly<Record<string, (config: Config) => string | number | boolean | undefined>> = {
  HEYGEN_API_KEY: () => undefined,
  HEYGEN_API: (c) => c.heygenApi,
  HEYGEN_API_BASE_URL: (c) => c.heygenApiBaseUrl,
  HEYGEN_UPLOAD_URL: (c) => c.heygenUploadUrl,
  PORT: (c) => c.port,
  HOST: (c) => c.host,
  MAX_IMAGE_BYTES: (c) => c.maxBytes.image,
  MAX_VIDEO_BYTES: (c) => c.maxBytes.video,
  MAX_AUDIO_BYTES: (c) => c.maxBytes.audio,
  UPSTREAM_MODE: (c) => c.upstreamMode,
  UPSTREAM_TIMEOUT_MS: (c) => c.upstreamTimeoutMs,
  LOG_LEVEL: (c) => c.logLevel,
  ALLOWED_ORIGINS: (c) => c.allowedOrigins?.join(','),
  RATE_LIMIT_MAX: (c) => c.rateLimitMax,
  RATE_LIMIT_WINDOW_MS: (c) => c.rateLimitWindowMs,
  TRUST_PROXY: (c) => c.trustProxy,
  REDIS_URL: (c) => c.redisUrl,
  MAX_CONCURRENT_UPLOADS: (c) => c.maxConcurrentUploads,
  MAX_UPLOADS_PER_CLIENT: (c) => c.maxUploadsPerClient,
  SHUTDOWN_GRACE_MS: (c) => c.shutdownGraceMs,
  UPLOAD_TOKEN_SECRET: (c) => (c.uploadTokenSecret === undefined ? undefined : '(a secret)'),
  CLIENT_IDLE_TIMEOUT_MS: (c) => c.clientIdleTimeoutMs,
  CLIENT_MIN_BYTES_PER_SECOND: (c) => c.clientMinBytesPerSecond,
  CLIENT_MIN_RATE_WINDOW_MS: (c) => c.clientMinRateWindowMs,
  HEADERS_TIMEOUT_MS: (c) => c.headersTimeoutMs,
  REQUEST_TIMEOUT_MS: (c) => c.requestTimeoutMs,
  TMPDIR: (c) => c.tmpDir,
  RESUMABLE_DIR: (c) => c.resumableDir,
  RESUMABLE_EXPIRY_MS: (c) => c.resumableExpiryMs,
  RESUMABLE_MAX_DISK_BYTES: (c) => c.resumableMaxDiskBytes,
  RESUMABLE_MAX_BYTES_PER_CLIENT: (c) => c.resumableMaxBytesPerClient,
  MAX_RESUMABLE_UPLOADS_PER_CLIENT: (c) => c.maxResumableUploadsPerClient,
  RESUMABLE_CLEANUP_INTERVAL_MS: (c) => c.resumableCleanupIntervalMs,
  RESUMABLE_STORE: (c) => c.resumableStore,
  RESUMABLE_S3_BUCKET: (c) => c.resumableS3Bucket,
  RESUMABLE_S3_REGION: (c) => c.resumableS3Region,
  RESUMABLE_S3_ENDPOINT: (c) => c.resumableS3Endpoint,
  RESUMABLE_S3_FORCE_PATH_STYLE: (c) => c.resumableS3ForcePathStyle,
};

function envExampleVariables(): string[] {
  const text = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
  return [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]!);
}

/** configuration.md's table: variable → the default cell as written. */
function documentedDefaults(): Map<string, string> {
  const section = /^## Every variable\n([\s\S]*?)^## /m.exec(withoutCodeBlocks(readDoc('docs/configuration.md')))?.[1] ?? '';
  const rows = section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]+) \|/gm);
  return new Map([...rows].map((row) => [row[1]!, row[2]!.trim()]));
}

describe('docs/configuration.md', () => {
  it('lists every variable of .env.example, and no other; .env.example lists every variable config.ts declares', () => {
    expect(envExampleVariables().sort()).toEqual(Object.keys(VARIABLES).sort());
    expect([...documentedDefaults().keys()].sort()).toEqual(envExampleVariables().sort());
    // Every variable the test knows how to read from the Config, so none goes unchecked below.
    expect(Object.keys(CONFIG_OF).sort()).toEqual(envExampleVariables().sort());
  });

  it("gives each variable src/config.ts's default (in backticks), or says it has none", () => {
    const wrong: string[] = [];
    for (const [variable, cell] of documentedDefaults()) {
      const actual = CONFIG_OF[variable]?.(v3);
      const stated = /^`([^`]*)`$/.exec(cell)?.[1];
      const matches = actual === undefined ? stated === undefined : stated === String(actual);
      if (!matches) wrong.push(`${variable}: documented ${cell}, config.ts ${String(actual)}`);
    }
    expect(wrong).toEqual([]);
  });
});
