import fs from 'node:fs';
import path from 'node:path';
import { freePort, type ServerProcess, startServer } from './processes';

export const CONTENDER_IDS = ['direct', 'stream-relay', 'spool-relay', 'tutorial', 'project-buffered', 'project-streaming'] as const;
export type ContenderId = (typeof CONTENDER_IDS)[number];

export interface Contender {
  readonly id: ContenderId;
  readonly label: string;
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
  return ['--trace-gc', ...profiler];
}

/** Raised far above the bench sizes so that no limit of the project interferes with what is measured. */
const PROJECT_ENV = {
  HEYGEN_API_KEY: 'bench-key',
  HOST: '127.0.0.1',
  MAX_IMAGE_BYTES: '2147483648',
  MAX_VIDEO_BYTES: '2147483648',
  MAX_AUDIO_BYTES: '2147483648',
  RATE_LIMIT_MAX: '1000000000',
  MAX_CONCURRENT_UPLOADS: '1000',
  // Every bench connection is one client (loopback).
  MAX_UPLOADS_PER_CLIENT: '1000',
  UPSTREAM_TIMEOUT_MS: '600000',
  // Logging stays on: it is part of the middleware whose cost is measured. Its output goes to a file.
  LOG_LEVEL: 'info',
};

export function contenders(projectUnavailable: string | undefined): readonly Contender[] {
  return [
    { id: 'direct', label: 'direct (raw file to the sink)', multipart: false },
    { id: 'stream-relay', label: 'minimal streaming relay (busboy → http.request)', multipart: true },
    { id: 'spool-relay', label: 'minimal spooling relay (busboy → temp file → Content-Length)', multipart: true },
    { id: 'tutorial', label: 'tutorial proxy (multer memoryStorage + axios defaults)', multipart: true },
    { id: 'project-buffered', label: 'project, UPSTREAM_MODE=buffered', multipart: true, unavailable: projectUnavailable },
    { id: 'project-streaming', label: 'project, UPSTREAM_MODE=streaming', multipart: true, unavailable: projectUnavailable },
  ];
}

const RELAY_SCRIPTS: Partial<Record<ContenderId, string>> = {
  'stream-relay': 'stream-relay.js',
  'spool-relay': 'spool-relay.js',
  tutorial: 'tutorial-proxy.js',
};

export async function startSink(layout: Layout): Promise<ServerProcess> {
  const port = await freePort();
  return startServer({
    name: 'sink',
    command: process.execPath,
    args: [path.join(layout.buildDir, 'servers', 'sink.js')],
    env: { PORT: String(port) },
    port,
    logFile: path.join(layout.logDir, 'sink.log'),
  });
}

/** Starts a fresh server process for `contender`; the direct contender has none (undefined). */
export async function startContender(
  contender: Contender,
  layout: Layout,
  sinkPort: number,
  scenario: string,
): Promise<ServerProcess | undefined> {
  if (contender.id === 'direct') return undefined;
  const port = await freePort();
  const upstream = `http://127.0.0.1:${sinkPort}/v1/asset`;
  const logFile = path.join(layout.logDir, `${scenario}-${contender.id}.log`);
  const script = RELAY_SCRIPTS[contender.id];
  if (script !== undefined) {
    return startServer({
      name: contender.id,
      command: layout.serverNode,
      args: [...nodeArgs(layout, scenario, contender.id), path.join(layout.buildDir, 'servers', script)],
      env: { PORT: String(port), UPSTREAM_URL: upstream },
      port,
      logFile,
    });
  }
  const mode = contender.id === 'project-streaming' ? 'streaming' : 'buffered';
  return startServer({
    name: contender.id,
    command: layout.serverNode,
    args: [...nodeArgs(layout, scenario, contender.id), ...startCommand(layout.project)],
    env: { ...PROJECT_ENV, PORT: String(port), HEYGEN_API: 'v1', HEYGEN_UPLOAD_URL: upstream, UPSTREAM_MODE: mode },
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
