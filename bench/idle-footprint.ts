import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCommand } from './contenders';
import { currentRss } from './proc-stats';
import { freePort, installExitHandlers, onExit, startServer, stopServer } from './processes';

/**
 * `npm run bench:idle`: what an idle replica holds, and each module's share of it. Writes
 * bench/idle-footprint.md.
 *
 * Idle RSS is VmRSS of a fresh `npm start` (its flags, its entry) once it listens and has sat for
 * SETTLE_MS, untouched, as the bench's idle column reads it; each figure is the median of `--reps`
 * fresh processes. A module's share is the idle RSS with the module loaded at start (`node --require
 * <module>` before the entry, exactly what the configuration that uses it loads) minus the idle RSS
 * without it. The libraries every configuration loads are measured alone in a bare node, and as a
 * running total in the order the app needs them: their shares overlap (node's own modules, the
 * ESM loader, mime-db), so only the running total adds up.
 */

// Compiled to bench/results/build/idle-footprint.js, so the repository is three levels up.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SETTLE_MS = 1000;
const MB = 1e6;
/** The young generation held at its smallest for the share measurements (see main). */
const STEADY_YOUNG_GENERATION = '--max-semi-space-size=1';

interface Options {
  readonly reps: number;
  readonly project: string;
  readonly out: string;
}

function parse(argv: readonly string[]): Options {
  let reps = 3;
  let project = ROOT;
  let out = path.join(ROOT, 'bench', 'idle-footprint.md');
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--reps' && value !== undefined) reps = Number(value);
    else if (arg === '--project' && value !== undefined) project = path.resolve(value);
    else if (arg === '--out' && value !== undefined) out = path.resolve(value);
    else throw new Error('usage: npm run bench:idle -- [--reps N] [--project DIR] [--out FILE]');
    i += 1;
  }
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a whole number ≥ 1');
  return { reps, project, out };
}

const BASE_ENV = {
  HEYGEN_API_KEY: 'bench-key',
  HOST: '127.0.0.1',
  HEYGEN_API: 'v3',
  LOG_LEVEL: 'info',
};

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** Median idle RSS (bytes) of `reps` fresh servers started with `args` and `env`, each with its own empty RESUMABLE_DIR. */
async function idleRss(reps: number, args: readonly string[], env: Readonly<Record<string, string>>, work: string): Promise<number> {
  const samples: number[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const port = await freePort();
    const resumableDir = fs.mkdtempSync(path.join(work, 'resumable-'));
    const server = await startServer({
      name: 'idle',
      command: process.execPath,
      args,
      env: { ...BASE_ENV, RESUMABLE_DIR: resumableDir, ...env, PORT: String(port) },
      port,
      logFile: path.join(work, 'idle.log'),
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const rss = currentRss(server.pid);
      if (rss === undefined) throw new Error('VmRSS unreadable: this needs Linux /proc');
      samples.push(rss);
    } finally {
      await stopServer(server);
    }
  }
  return median(samples);
}

/** Median RSS of a bare node that requires `modules` (resolved from the project) and sits for SETTLE_MS. */
function bareRss(reps: number, modules: readonly string[], project: string, flags: readonly string[] = startFlags(project)): number {
  const script = `for (const m of JSON.parse(process.argv[1])) require(m);
setTimeout(() => { process.stdout.write(/VmRSS:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]); }, ${SETTLE_MS});`;
  const resolved = modules.map((name) => require.resolve(name, { paths: [project] }));
  const samples: number[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    const run = spawnSync(process.execPath, [...flags, '-e', script, JSON.stringify(resolved)], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`bare node with ${modules.join(', ')} failed: ${run.stderr}`);
    samples.push(Number(run.stdout) * 1024);
  }
  return median(samples);
}

/** The node flags of `npm start` (without its entry). */
function startFlags(project: string): string[] {
  return startCommand(project).filter((arg) => arg.startsWith('-'));
}

/** A module a configuration may load at start, and the configuration that does. */
interface Optional {
  readonly what: string;
  readonly when: string;
  /** Resolved from the project; an npm package or a file under dist/. */
  readonly modules: readonly string[];
}

const OPTIONAL: readonly Optional[] = [
  { what: 'tus intake: @tus/server, @tus/file-store, srvx (and Node’s fetch classes)', when: 'on the first /v1/uploads request, or at start when RESUMABLE_DIR holds uploads', modules: ['./dist/intake/resumable/resumable-intake.js'] },
  { what: 'S3 store for tus: @tus/s3-store, @aws-sdk/client-s3', when: 'only with the S3 store chosen', modules: ['@tus/s3-store'] },
  { what: 'HeyGen v1 adapter (under v3)', when: 'HEYGEN_API=v1 only', modules: ['./dist/heygen/v1/v1-upstream.js'] },
  { what: 'Redis client (redis)', when: 'REDIS_URL set', modules: ['redis'] },
  { what: 'rate-limit-redis', when: 'REDIS_URL set', modules: ['rate-limit-redis'] },
  { what: 'upload tokens (jsonwebtoken)', when: 'UPLOAD_TOKEN_SECRET set', modules: ['jsonwebtoken'] },
  { what: 'OpenAPI document (src/http/openapi.json)', when: 'on the first GET /openapi.json', modules: ['./dist/http/openapi.json'] },
];

/** What every configuration loads, in the order the app needs it (a running total in a bare node). */
const ALWAYS = ['express', 'multer', 'axios', 'zod', 'pino', 'prom-client', 'helmet', 'express-rate-limit', 'file-type', '@tus/utils'];

const CONFIGURATIONS: readonly { readonly name: string; readonly env: Readonly<Record<string, string>> }[] = [
  { name: 'HEYGEN_API=v3, buffered (the defaults)', env: {} },
  { name: 'HEYGEN_API=v3, UPSTREAM_MODE=streaming', env: { UPSTREAM_MODE: 'streaming' } },
  { name: 'HEYGEN_API=v1', env: { HEYGEN_API: 'v1' } },
  { name: 'HEYGEN_API=v3, UPLOAD_TOKEN_SECRET set', env: { UPLOAD_TOKEN_SECRET: 'x'.repeat(32) } },
];

function resolvable(name: string, project: string): boolean {
  try {
    require.resolve(name, { paths: [project] });
    return true;
  } catch {
    return false;
  }
}

const mb = (bytes: number): string => (bytes / MB).toFixed(1);
const signed = (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${Math.abs(bytes / MB).toFixed(1)}`;

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  installExitHandlers();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'idle-footprint-'));
  onExit(() => fs.rmSync(work, { recursive: true, force: true }));
  const { reps, project } = options;
  const command = startCommand(project);
  const progress = (line: string): void => void process.stderr.write(`[idle] ${line}\n`);

  const lines: string[] = [];
  const bare = bareRss(reps, [], project);
  progress(`bare node ${mb(bare)} MB`);

  const configurations: string[] = [];
  for (const configuration of CONFIGURATIONS) {
    const rss = await idleRss(reps, command, configuration.env, work);
    progress(`${configuration.name}: ${mb(rss)} MB`);
    configurations.push(`| ${configuration.name} | ${mb(rss)} |`);
  }

  const [flags, entry] = [command.filter((arg) => arg.startsWith('-')), command.filter((arg) => !arg.startsWith('-'))];
  // V8 doubles the young generation when start-up allocations survive, so one more module can tip a
  // whole step (4 MB and more) or none: shares are measured with it held small, which steadies them.
  const steady = [...flags.filter((arg) => !arg.startsWith('--max-semi-space-size')), STEADY_YOUNG_GENERATION];
  const base = await idleRss(reps, [...steady, ...entry], {}, work);
  const optional: string[] = [];
  for (const module of OPTIONAL) {
    const installed = module.modules.every((name) => resolvable(name, project));
    if (!installed) {
      optional.push(`| ${module.what} | ${module.when} | not installed here |`);
      continue;
    }
    const preload = module.modules.flatMap((name) => ['--require', require.resolve(name, { paths: [project] })]);
    const rss = await idleRss(reps, [...steady, ...preload, ...entry], {}, work);
    progress(`${module.what}: ${signed(rss - base)} MB`);
    optional.push(`| ${module.what} | ${module.when} | ${signed(rss - base)} |`);
  }

  const always: string[] = [];
  const bareSteady = bareRss(reps, [], project, steady);
  let previous = bareSteady;
  for (const [index, name] of ALWAYS.entries()) {
    const alone = bareRss(reps, [name], project, steady);
    const total = bareRss(reps, ALWAYS.slice(0, index + 1), project, steady);
    always.push(`| ${name} | ${signed(alone - bareSteady)} | ${signed(total - previous)} | ${mb(total)} |`);
    previous = total;
  }

  lines.push(
    '# What an idle replica holds',
    '',
    `Generated by \`npm run bench:idle${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (bench/idle-footprint.ts) on ${new Date().toISOString().slice(0, 10)},`,
    `node ${process.version}, ${os.cpus().length} cores. Idle RSS: VmRSS of a fresh \`npm start\` (${flags.join(' ')}) once it`,
    `listens and has sat ${SETTLE_MS / 1000} s untouched, with an empty RESUMABLE_DIR; each figure is the median of ${reps} fresh processes.`,
    `A bare \`node\` with the same flags holds ${mb(bare)} MB.`,
    '',
    '## Each configuration, idle',
    '',
    '| configuration | idle RSS, MB |',
    '|---|---:|',
    ...configurations,
    '',
    '## Modules a configuration may leave out',
    '',
    `Each loaded at start (\`node --require\`) into the default configuration; the share is the difference. These runs use`,
    `\`${STEADY_YOUNG_GENERATION}\` (${mb(base)} MB without any): V8 doubles its young generation when start-up allocations`,
    'survive (a module preloaded with --require loads before the server holds it), so with the start flags one more module can tip a whole step of 4 MB or more, or none, and the',
    'differences would say more about that step than about the module. The project loads each module only in',
    'the configuration named, and the ones loaded on first use only then. Fresh processes of one build spread',
    'by about ±1 MB, so a share under 1 MB says only that the module is small.',
    '',
    '| module | loaded | share of idle RSS, MB |',
    '|---|---|---:|',
    ...optional,
    '',
    '## What every configuration loads',
    '',
    `Each library alone in a bare node (${mb(bareSteady)} MB with \`${STEADY_YOUNG_GENERATION}\`, as above), and added in turn to the ones above it (the running total). Shares`,
    'overlap (node’s own modules, the ESM loader, mime-db), so only the running total adds up; the rest of the',
    'idle figure is the project’s own code, its objects (the metrics registry, the config) and V8’s young',
    'generation (held at its starting size while the server loads: src/ops/start-up-young-generation.ts).',
    '',
    '| library | alone, MB | added to the ones above, MB | running total, MB |',
    '|---|---:|---:|---:|',
    ...always,
    '',
  );
  fs.writeFileSync(options.out, lines.join('\n'));
  progress(`written to ${path.relative(ROOT, options.out)}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
