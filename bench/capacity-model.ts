/**
 * The capacity model of docs/production.md ("Sizing a deployment"): what a stated load needs, from
 * per-replica figures the bench measures. docs/production.md states its inputs and its results, and
 * test/docs/capacity-model.test.ts holds the page, this model and k8s/base/deployment.yaml's resource
 * requests together: change a figure here and the page and the manifest must follow.
 */

const MIB = 1024 * 1024;

/** What one replica costs, measured by the bench on this project (the commands are in docs/production.md). */
export interface ReplicaFigures {
  /** CPU milliseconds per small upload (an 80 KB PNG, v3 multipart), every safeguard on. */
  readonly cpuMsPerSmallUpload: number;
  /** CPU milliseconds per MiB of a large upload (v3 direct upload: spool, SHA-256, PUT), buffered mode. */
  readonly cpuMsPerMib: number;
  /** RSS of an idle replica, MiB. */
  readonly idleMib: number;
  /** RSS above idle per upload in flight, MiB (16 concurrent 64 MiB uploads, buffered, peak − idle over 16). */
  readonly mibPerUploadInFlight: number;
  /** Peak RSS, MiB, under small uploads back to back (32 connections): the heap grows with the rate, not with the files in flight. */
  readonly smallUploadsPeakMib: number;
  /** Redis round trips per upload (rate limit, per-client slot and its release), counted with a shared Redis. */
  readonly redisCommandsPerUpload: number;
}

/** The load to size for. */
export interface Load {
  readonly uploadsInFlight: number;
  /** Bytes a day, all uploads together. */
  readonly bytesPerDay: number;
  /** Small images a day, and the size of one. */
  readonly smallUploadsPerDay: number;
  readonly smallUploadBytes: number;
  /** The large files (videos), all of one size; they carry the rest of bytesPerDay. */
  readonly videoBytes: number;
  /** The busiest hour's rate over the day's average. */
  readonly peakFactor: number;
}

/** How the deployment is run: the pod's settings (k8s/base) and the headroom the HPA keeps. */
export interface PodSettings {
  /** MAX_CONCURRENT_UPLOADS of each pod (k8s/base/configmap.yaml). */
  readonly maxConcurrentUploads: number;
  /** The largest file a pod spools (the largest MAX_*_BYTES). */
  readonly largestFileBytes: number;
  /** The HPA's target CPU utilisation, a fraction of the request. */
  readonly cpuTargetUtilisation: number;
  /**
   * What the requests carry over the model's CPU: the check run (bench/capacity-check.md) measured
   * about twice what the single-replica figures predict (Redis, a proxy in front, shared cores).
   */
  readonly cpuSafetyFactor: number;
}

export interface Sizing {
  readonly videosPerDay: number;
  /** Uploads a second in the busiest hour, and the CPU cores they keep busy. */
  readonly peakUploadsPerSecond: number;
  readonly peakCores: number;
  readonly replicas: number;
  /** Per pod. */
  readonly cpuRequestMillicores: number;
  readonly memoryRequestMib: number;
  /** Per pod: every slot spooling the largest file (buffered mode). */
  readonly spoolMib: number;
  /** Shared: every upload in flight resumable at once, each a video (tus keeps the bytes until forwarded). */
  readonly resumableGib: number;
  readonly peakRedisCommandsPerSecond: number;
}

const roundUp = (value: number, step: number): number => Math.ceil(value / step) * step;

export function sizeDeployment(load: Load, replica: ReplicaFigures, pod: PodSettings): Sizing {
  const smallBytes = load.smallUploadsPerDay * load.smallUploadBytes;
  const videosPerDay = Math.round((load.bytesPerDay - smallBytes) / load.videoBytes);
  const uploadsPerDay = load.smallUploadsPerDay + videosPerDay;
  const cpuSecondsPerDay = (load.smallUploadsPerDay * replica.cpuMsPerSmallUpload + ((videosPerDay * load.videoBytes) / MIB) * replica.cpuMsPerMib) / 1000;
  const peakCores = (cpuSecondsPerDay / 86_400) * load.peakFactor;
  const peakUploadsPerSecond = (uploadsPerDay / 86_400) * load.peakFactor;
  // Enough pods for the uploads in flight at each pod's cap; the CPU they need is then spread over them.
  const replicas = Math.ceil(load.uploadsInFlight / pod.maxConcurrentUploads);
  return {
    videosPerDay,
    peakUploadsPerSecond,
    peakCores,
    replicas,
    cpuRequestMillicores: roundUp(((peakCores * pod.cpuSafetyFactor) / replicas / pod.cpuTargetUtilisation) * 1000, 50),
    memoryRequestMib: roundUp(Math.max(replica.idleMib + pod.maxConcurrentUploads * replica.mibPerUploadInFlight, replica.smallUploadsPeakMib), 16),
    spoolMib: (pod.maxConcurrentUploads * pod.largestFileBytes) / MIB,
    resumableGib: Math.ceil((load.uploadsInFlight * load.videoBytes) / MIB / 1024),
    peakRedisCommandsPerSecond: Math.ceil(peakUploadsPerSecond * replica.redisCommandsPerUpload),
  };
}

/**
 * Measured here (node 20, 2 shared cores; commands and runs in docs/production.md):
 * - small upload: `npm run bench -- --only v3-small --contenders tutorial,project-v3-buffered --reps 2`,
 *   server CPU over requests: 6.96 s / 3,048 and 4.90 s / 2,659 (2.3 and 1.8 ms);
 * - per MiB: `--only v3-direct`, one 150 MiB direct upload buffered: 0.98 s of CPU (median of 2);
 * - idle and in flight: `--only concurrent`, 16 × 64 MiB buffered: idle 85.2 MB, worst peak 144.6 MB;
 * - small uploads' peak: `--only v3-small`, worst peak 219.9 MB (210 MiB);
 * - Redis: one EVALSHA for the rate limit, one EVAL to take a per-client slot and one to give it back;
 *   an upload longer than 20 s adds one refresh of its slot every 20 s (the check run counts them).
 */
export const REPLICA_FIGURES: ReplicaFigures = {
  cpuMsPerSmallUpload: 2.1,
  cpuMsPerMib: 6.5,
  idleMib: 81,
  mibPerUploadInFlight: 3.6,
  smallUploadsPeakMib: 210,
  redisCommandsPerUpload: 3,
};

/** The load docs/production.md sizes for: 1,000 uploads in flight, 5 TB a day, 80 KB images and 100 MiB videos. */
export const STATED_LOAD: Load = {
  uploadsInFlight: 1000,
  bytesPerDay: 5e12,
  smallUploadsPerDay: 1_000_000,
  smallUploadBytes: 80_000,
  videoBytes: 100 * MIB,
  peakFactor: 3,
};

/** k8s/base: MAX_CONCURRENT_UPLOADS 16, the largest limit 200 MiB (MAX_VIDEO_BYTES), the HPA at 70 %. */
export const POD_SETTINGS: PodSettings = {
  maxConcurrentUploads: 16,
  largestFileBytes: 200 * MIB,
  cpuTargetUtilisation: 0.7,
  cpuSafetyFactor: 2,
};

/** The check run (bench/capacity-check.ts): a few replicas, their slots three-quarters full. */
export const CHECK_RUN = {
  replicas: 3,
  slotsPerReplica: POD_SETTINGS.maxConcurrentUploads,
  videos: 6,
  videoBytes: 100 * MIB,
  smallConnections: 30,
  load: { ...STATED_LOAD, uploadsInFlight: 36 },
  pod: POD_SETTINGS,
} as const;
