import fs from 'node:fs';
import path from 'node:path';
import { freePort, type ServerProcess, startServer } from './processes';

export const CONTENDER_IDS = [
  'direct',
  'stream-relay',
  'spool-relay',
  'direct-upload-relay',
  'tutorial',
  'project-buffered',
  'project-streaming',
  'project-v3-buffered',
  'project-v3-streaming',
] as const;
export type ContenderId = (typeof CONTENDER_IDS)[number];

/** Which HeyGen API a scenario's upstream speaks: the sink answers both (bench/servers/sink.ts). */
export type Api = 'v1' | 'v3';

export interface Contender {
  readonly id: ContenderId;
  readonly label: string;
  /** The label when the scenario speaks v3, where the contender does something else than under v1. */
  readonly v3Label?: string;
  /** The direct contender sends the raw file to the sink; everyone else gets a browser's multipart form. */
  readonly multipart: boolean;
  /** Why the contender cannot run, e.g. the project is not built yet; it is then skipped, not failed. */
  readonly unavailable?: string;
}

export interface Layout {
  /** The checkout whose dist/server.js is the project contender. */
  readonly project: string;
  /** Where bench/**\/*.ts was compiled to; the servers run as plain node, without a TS loader in them. */
  readonly buildDir: string;
  readonly logDir: string;
  /** Set by --profile: every server runs under `node --cpu-prof` and writes its profile here on exit. */
  readonly profileDir?: string;
  /** Set by --memory-profile: every server loads servers/memory-sampler.js and writes its peak's breakdown here. */
  readonly memoryDir?: string;
  /** The node binary the servers under test run on (--node); the sink and the client stay on this one. */
  readonly serverNode: string;
}

/**
 * node's arguments before the script, for every server alike: `--trace-gc`, whose lines in the log
 * let the runner count full (mark-compact) collections per repetition, and the CPU profiler when the
 * run profiles.
 */
function nodeArgs(layout: Layout, scenario: string, id: ContenderId): string[] {
  const profiler =
    layout.profileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${layout.profileDir}`, `--cpu-prof-name=${scenario}-${id}.cpuprofile`];
  const sampler = layout.memoryDir === undefined ? [] : ['--require', path.join(layout.buildDir, 'servers', 'memory-sampler.js')];
  return ['--trace-gc', ...profiler, ...sampler];
}

/** Where the memory sampler writes, when the run samples memory (the sampler reads nothing else). */
function samplerEnv(layout: Layout, scenario: string, id: ContenderId): Record<string, string> {
  return layout.memoryDir === undefined ? {} : { MEMORY_SAMPLE_FILE: path.join(layout.memoryDir, `${scenario}-${id}.json`) };
}

/** Raised far above the bench sizes so that no limit of the project interferes with what is measured. */
export const PROJECT_ENV = {
  HEYGEN_API_KEY: 'bench-key',
  HOST: '127.0.0.1',
  MAX_IMAGE_BYTES: '2147483648',
  MAX_VIDEO_BYTES: '2147483648',
  MAX_AUDIO_BYTES: '2147483648',
  RATE_LIMIT_MAX: '1000000000',
  MAX_CONCURRENT_UPLOADS: '1000',
  // Every bench connection is one client (loopback).
  MAX_UPLOADS_PER_CLIENT: '1000',
  MAX_RESUMABLE_UPLOADS_PER_CLIENT: '1000000000',
  RESUMABLE_MAX_BYTES_PER_CLIENT: '1000000000000',
  RESUMABLE_MAX_DISK_BYTES: '1000000000000',
  UPSTREAM_TIMEOUT_MS: '600000',
  // Logging stays on: it is part of the middleware whose cost is measured. Its output goes to a file.
  LOG_LEVEL: 'info',
};

export function contenders(projectUnavailable: string | undefined): readonly Contender[] {
  return [
    { id: 'direct', label: 'direct (raw file to the sink)', multipart: false },
    { id: 'stream-relay', label: 'minimal streaming relay (busboy → http.request)', multipart: true },
    { id: 'spool-relay', label: 'minimal spooling relay (busboy → temp file → Content-Length)', multipart: true },
    {
      id: 'direct-upload-relay',
      label: 'minimal direct-upload relay (busboy → temp file + SHA-256 → create, PUT, complete)',
      multipart: true,
    },
    {
      id: 'tutorial',
      label: 'tutorial proxy (multer memoryStorage + axios defaults)',
      v3Label: 'tutorial proxy (multer memoryStorage + axios FormData to /v3/assets)',
      multipart: true,
    },
    { id: 'project-buffered', label: 'project, HEYGEN_API=v1, UPSTREAM_MODE=buffered', multipart: true, unavailable: projectUnavailable },
    { id: 'project-streaming', label: 'project, HEYGEN_API=v1, UPSTREAM_MODE=streaming', multipart: true, unavailable: projectUnavailable },
    { id: 'project-v3-buffered', label: 'project, HEYGEN_API=v3, UPSTREAM_MODE=buffered', multipart: true, unavailable: projectUnavailable },
    { id: 'project-v3-streaming', label: 'project, HEYGEN_API=v3, UPSTREAM_MODE=streaming', multipart: true, unavailable: projectUnavailable },
  ];
}

export function labelFor(contender: Contender, api: Api): string {
  return api === 'v3' ? (contender.v3Label ?? contender.label) : contender.label;
}

const RELAY_SCRIPTS: Partial<Record<ContenderId, string>> = {
  'stream-relay': 'stream-relay.js',
  'spool-relay': 'spool-relay.js',
  'direct-upload-relay': 'direct-upload-relay.js',
  tutorial: 'tutorial-proxy.js',
};

const PROJECTS: Partial<Record<ContenderId, { api: Api; mode: 'buffered' | 'streaming' }>> = {
  'project-buffered': { api: 'v1', mode: 'buffered' },
  'project-streaming': { api: 'v1', mode: 'streaming' },
  'project-v3-buffered': { api: 'v3', mode: 'buffered' },
  'project-v3-streaming': { api: 'v3', mode: 'streaming' },
};

/** `verify`: the sink also hashes direct-upload PUTs and checks them against the announced SHA-256 (smoke). */
export async function startSink(layout: Layout, verify = false): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'sink',
    command: process.execPath,
    args: [path.join(layout.buildDir, 'servers', 'sink.js')],
    env: { PORT: String(port), SINK_VERIFY: verify ? '1' : '0' },
    port,
    logFile: path.join(layout.logDir, 'sink.log'),
  });
}

/**
 * Starts a fresh server process for `contender`, talking to the sink in the scenario's API; the
 * direct contender has none (undefined).
 */
export async function startContender(
  contender: Contender,
  layout: Layout,
  sinkPort: number,
  scenario: string,
  api: Api,
  /** Added to the project's environment (e.g. RESUMABLE_DIR); the relays ignore it. */
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<ServerProcess | undefined> {
  if (contender.id === 'direct') return undefined;
  const port = await freePort();
  const base = `http://127.0.0.1:${sinkPort}`;
  const upstream = api === 'v3' ? `${base}/v3/assets` : `${base}/v1/asset`;
  const logFile = path.join(layout.logDir, `${scenario}-${contender.id}.log`);
  const script = RELAY_SCRIPTS[contender.id];
  if (script !== undefined) {
    return startServer({
      name: contender.id,
      command: layout.serverNode,
      args: [...nodeArgs(layout, scenario, contender.id), path.join(layout.buildDir, 'servers', script)],
      env: { PORT: String(port), UPSTREAM_URL: upstream, UPSTREAM_BASE: base, UPSTREAM_API: api, ...samplerEnv(layout, scenario, contender.id) },
      port,
      logFile,
    });
  }
  const project = PROJECTS[contender.id];
  if (project === undefined) throw new Error(`no way to start contender ${contender.id}`);
  if (project.api !== api) throw new Error(`${contender.id} speaks ${project.api}, the scenario ${scenario} ${api}`);
  const upstreamEnv: Record<string, string> = api === 'v3' ? { HEYGEN_API: 'v3', HEYGEN_API_BASE_URL: base } : { HEYGEN_API: 'v1', HEYGEN_UPLOAD_URL: upstream };
  return startServer({
    name: contender.id,
    command: layout.serverNode,
    args: [...nodeArgs(layout, scenario, contender.id), ...startCommand(layout.project)],
    env: { ...PROJECT_ENV, PORT: String(port), ...upstreamEnv, UPSTREAM_MODE: project.mode, ...extraEnv, ...samplerEnv(layout, scenario, contender.id) },
    port,
    logFile,
  });
}

/**
 * node's arguments for the project exactly as `npm start` runs it (package.json's start script, the
 * one the container's CMD repeats), without npm in between: the runtime flags that are part of the
 * product are measured with it.
 */
export function startCommand(project: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(project, 'package.json'), 'utf8')) as { scripts?: { start?: string } };
  const start = manifest.scripts?.start ?? '';
  const [runtime, ...args] = start.trim().split(/\s+/);
  if (runtime !== 'node' || args.length === 0) {
    throw new Error(`package.json's start script must be "node [flags] entry.js" for the bench to run it; it is "${start}"`);
  }
  return args.map((arg) => (arg.startsWith('-') ? arg : path.resolve(project, arg)));
}

/** Why the project contenders must be skipped, or undefined when dist/server.js is there to run. */
export function projectUnavailable(project: string, buildFailure: string | undefined): string | undefined {
  if (buildFailure !== undefined) return `not built: ${buildFailure}`;
  if (!fs.existsSync(path.join(project, 'dist', 'server.js'))) return 'not built: dist/server.js does not exist yet';
  return undefined;
}
