import autocannon from 'autocannon';
import fs from 'node:fs';
import { multipartBody, tusUpload, upload, type UploadResult } from './client';
import type { Api, ContenderId } from './contenders';
import type { Fixture } from './fixtures';

export type ScenarioId = 'single' | 'concurrent' | 'large' | 'small' | 'v3-small' | 'v3-direct' | 'resumable' | 'tus-create' | 'tus-create-stored';
export const SCENARIO_IDS: readonly ScenarioId[] = ['single', 'concurrent', 'large', 'small', 'v3-small', 'v3-direct', 'resumable', 'tus-create', 'tus-create-stored'];

/** Who runs where: the v1 scenarios as before; the v3 ones against the contenders that speak v3. */
const V1_LINEUP: readonly ContenderId[] = ['direct', 'stream-relay', 'spool-relay', 'tutorial', 'project-buffered', 'project-streaming'];
const V3_SMALL_LINEUP: readonly ContenderId[] = ['direct', 'tutorial', 'project-v3-buffered', 'project-v3-streaming'];
const V3_DIRECT_LINEUP: readonly ContenderId[] = ['direct', 'direct-upload-relay', 'project-v3-buffered', 'project-v3-streaming'];
/** tus is the project's own protocol: no relay or tutorial speaks it, so only the project runs. */
const RESUMABLE_LINEUP: readonly ContenderId[] = ['project-v3-buffered', 'project-v3-streaming'];

/** One repetition of one scenario against one contender. */
export interface Sample {
  readonly ok: number;
  readonly failed: number;
  /** Wall time of the repetition (all uploads of it), client side. */
  readonly ms?: number;
  /** Peak RSS of the server process during this repetition, in bytes. */
  readonly rss?: number;
  /** CPU seconds (user + system) the server process used during this repetition. */
  readonly cpu?: number;
  /** Full (mark-compact) garbage collections the server ran during this repetition (--trace-gc). */
  readonly fullGcs?: number;
  readonly rps?: number;
  readonly p50?: number;
  readonly p99?: number;
  readonly firstFailure?: string;
}

/** What the client side measures; the server's own figures are added by the runner. */
export type Measured = Omit<Sample, 'rss' | 'cpu' | 'fullGcs'>;

export interface Target {
  readonly port: number;
  readonly multipart: boolean;
}

export interface Sizes {
  readonly single: number;
  readonly concurrentCount: number;
  readonly concurrentSize: number;
  readonly large: number;
  readonly smallSeconds: number;
  readonly smallConnections: number;
  /** Requests each server gets before a small-file scenario is timed. */
  readonly smallWarmRequests: number;
  readonly warm: number;
  /** One upload by HeyGen v3's direct upload: the project takes that path above 32,000,000 bytes. */
  readonly v3Direct: number;
  /** The v3-direct warm-up file: just over the multipart cap, so the warm-up takes the direct path too. */
  readonly v3DirectWarm: number;
  /** One resumable (tus) upload to /v1/uploads, and the size of each of its PATCHes. */
  readonly resumable: number;
  readonly resumableChunk: number;
  /** Unfinished tus uploads stored before tus-create-stored times its creations (tus-create starts empty). */
  readonly storedUploads: number;
  /** How long fresh servers sit before their idle RSS is read. */
  readonly settleMs: number;
}

export interface Fixtures {
  readonly single: Fixture;
  readonly concurrent: Fixture;
  readonly large: Fixture;
  readonly warm: Fixture;
  readonly png: Fixture;
  readonly v3Direct: Fixture;
  readonly v3DirectWarm: Fixture;
  readonly resumable: Fixture;
}

export interface Scenario {
  readonly id: ScenarioId;
  readonly title: string;
  /** The API the contenders speak to the sink. */
  readonly api: Api;
  /** The contenders that run in it (narrowed further by --contenders). */
  readonly lineup: readonly ContenderId[];
  /** Brings a fresh server to steady state (JIT, pools, first temp file) before anything is timed. */
  warm(target: Target): Promise<void>;
  measure(target: Target): Promise<Measured>;
}

const MIB = 1024 * 1024;

export function describeSize(bytes: number): string {
  return bytes >= 1024 * MIB ? `${bytes / (1024 * MIB)} GiB` : bytes >= MIB ? `${bytes / MIB} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

function succeeded(result: UploadResult): boolean {
  return result.status >= 200 && result.status < 300;
}

/** Counts one upload's outcome as a sample: failures are data, not exceptions. */
async function one(run: () => Promise<UploadResult>): Promise<Measured> {
  const started = performance.now();
  try {
    const result = await run();
    const ms = performance.now() - started;
    return succeeded(result) ? { ok: 1, failed: 0, ms } : { ok: 0, failed: 1, ms, firstFailure: `HTTP ${result.status} ${result.body.slice(0, 200)}` };
  } catch (error) {
    return { ok: 0, failed: 1, ms: performance.now() - started, firstFailure: (error as Error).message };
  }
}

/** Runs `count` uploads at once; failures are counted, not thrown, so one bad upload shows as data. */
async function uploads(target: Target, fixture: Fixture, count: number): Promise<Measured> {
  const started = performance.now();
  const settled = await Promise.allSettled(Array.from({ length: count }, () => upload(target.port, fixture, target.multipart)));
  const ms = performance.now() - started;
  let ok = 0;
  let firstFailure: string | undefined;
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled' && succeeded(outcome.value)) ok += 1;
    else
      firstFailure ??=
        outcome.status === 'fulfilled'
          ? `HTTP ${outcome.value.status} ${outcome.value.body.slice(0, 200)}`
          : String((outcome.reason as Error).message);
  }
  return { ok, failed: count - ok, ms, firstFailure };
}

async function warmUploads(target: Target, fixture: Fixture, count = 3): Promise<void> {
  // Sequential and few: enough for the JIT to see the hot path, too little to matter for memory.
  for (let i = 0; i < count; i += 1) {
    const result = await uploads(target, fixture, 1);
    if (result.failed > 0) throw new Error(`warm-up upload failed: ${result.firstFailure ?? '?'}`);
  }
}

function smallFileBody(png: Fixture, multipart: boolean): { contentType: string; body: Buffer } {
  return multipart ? multipartBody(png) : { contentType: png.contentType, body: fs.readFileSync(png.path) };
}

async function hammer(target: Target, png: Fixture, options: { connections: number; seconds?: number; amount?: number }) {
  const { contentType, body } = smallFileBody(png, target.multipart);
  return autocannon({
    url: `http://127.0.0.1:${target.port}/v1/asset`,
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.seconds ?? 1 } : { amount: options.amount }),
  });
}

export function scenarios(sizes: Sizes, fixtures: Fixtures): readonly Scenario[] {
  return [
    {
      id: 'single',
      api: 'v1',
      lineup: V1_LINEUP,
      title: `one ${describeSize(sizes.single)} upload`,
      warm: (target) => warmUploads(target, fixtures.warm),
      measure: (target) => uploads(target, fixtures.single, 1),
    },
    {
      id: 'concurrent',
      api: 'v1',
      lineup: V1_LINEUP,
      title: `${sizes.concurrentCount} concurrent ${describeSize(sizes.concurrentSize)} uploads`,
      warm: (target) => warmUploads(target, fixtures.warm),
      measure: (target) => uploads(target, fixtures.concurrent, sizes.concurrentCount),
    },
    {
      id: 'large',
      api: 'v1',
      lineup: V1_LINEUP,
      title: `one ${describeSize(sizes.large)} upload`,
      warm: (target) => warmUploads(target, fixtures.warm),
      measure: (target) => uploads(target, fixtures.large, 1),
    },
    { id: 'small', api: 'v1', lineup: V1_LINEUP, ...smallFiles(sizes, fixtures, '') },
    { id: 'v3-small', api: 'v3', lineup: V3_SMALL_LINEUP, ...smallFiles(sizes, fixtures, 'HeyGen v3 multipart (POST /v3/assets), ') },
    {
      id: 'v3-direct',
      api: 'v3',
      lineup: V3_DIRECT_LINEUP,
      title: `HeyGen v3 direct upload: one ${describeSize(sizes.v3Direct)} upload`,
      // One upload just over the cap runs the whole direct path (spool, hash, create, PUT, complete)
      // through hundreds of chunks; three would only add minutes to the smoke run.
      warm: (target) => warmUploads(target, fixtures.v3DirectWarm, 1),
      measure: (target) => uploads(target, fixtures.v3Direct, 1),
    },
    { id: 'tus-create', api: 'v3', lineup: RESUMABLE_LINEUP, ...tusCreations(sizes, 0) },
    { id: 'tus-create-stored', api: 'v3', lineup: RESUMABLE_LINEUP, ...tusCreations(sizes, sizes.storedUploads) },
    {
      id: 'resumable',
      api: 'v3',
      lineup: RESUMABLE_LINEUP,
      title: `resumable (tus 1.0.0, /v1/uploads): one ${describeSize(sizes.resumable)} upload in ${describeSize(sizes.resumableChunk)} chunks`,
      // One tus upload of the v3-direct warm-up file (just over the cap, so it is sent by direct upload too).
      warm: async (target) => {
        const result = await one(() => tusUpload(target.port, fixtures.v3DirectWarm, sizes.resumableChunk));
        if (result.failed > 0) throw new Error(`warm-up upload failed: ${result.firstFailure ?? '?'}`);
      },
      measure: (target) => one(() => tusUpload(target.port, fixtures.resumable, sizes.resumableChunk)),
    },
  ];
}

/** The small-file scenario's title and steps; v1's `small` and `v3-small` differ only in the upstream's API. */
function smallFiles(sizes: Sizes, fixtures: Fixtures, prefix: string): Pick<Scenario, 'title' | 'warm' | 'measure'> {
  return {
    title: `small files: ${prefix}${describeSize(fixtures.png.size)} PNG, ${sizes.smallConnections} connections, ${sizes.smallSeconds} s`,
    warm: async (target) => {
      await hammer(target, fixtures.png, { connections: sizes.smallConnections, amount: sizes.smallWarmRequests });
    },
    measure: async (target) => measured(await hammer(target, fixtures.png, { connections: sizes.smallConnections, seconds: sizes.smallSeconds })),
  };
}

/** A tus creation without a body: what one costs is what the store's size may not change. */
const CREATION_LENGTH = 20_000;
function creationRequest(port: number) {
  return {
    url: `http://127.0.0.1:${port}/v1/uploads`,
    method: 'POST' as const,
    headers: { 'tus-resumable': '1.0.0', 'upload-length': String(CREATION_LENGTH), 'upload-metadata': `filetype ${Buffer.from('image/png').toString('base64')}` },
  };
}

/**
 * tus creations per second, from a store that starts empty or holds `stored` unfinished uploads
 * (created, sequentially, in the warm-up): admitting a creation must cost the same either way.
 */
function tusCreations(sizes: Sizes, stored: number): Pick<Scenario, 'title' | 'warm' | 'measure'> {
  return {
    title: `tus creations (no body), ${sizes.smallConnections} connections, ${sizes.smallSeconds} s, from a store holding ${stored} unfinished uploads`,
    warm: async (target) => {
      const warmed = await autocannon({ ...creationRequest(target.port), connections: 1, amount: Math.max(stored, sizes.smallWarmRequests) });
      if (warmed.non2xx > 0 || warmed.errors > 0) throw new Error(`warm-up creations failed: ${warmed.non2xx} non-2xx, ${warmed.errors} errors`);
    },
    measure: async (target) => measured(await autocannon({ ...creationRequest(target.port), connections: sizes.smallConnections, duration: sizes.smallSeconds })),
  };
}

/** autocannon's result as a sample (its `errors` already include its timeouts). */
function measured(result: autocannon.Result): Measured {
  const failed = result.errors + result.non2xx;
  return {
    ok: result['2xx'],
    failed,
    ms: result.duration * 1000,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    firstFailure: failed > 0 ? `${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx` : undefined,
  };
}
