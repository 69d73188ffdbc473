import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCommand } from './contenders';
import { tusUpload } from './client';
import { type Fixture, makeSizedVideo } from './fixtures';
import { freePort, installExitHandlers, onExit, type ServerProcess, startServer, stopServer } from './processes';
import { abortedUpload, type Outcome, timedUpload } from './soak-client';
import { makePadded, median, type ProcessSample, sampleProcess, uploadsInFlight } from './soak-probe';

/**
 * `npm run soak`: the long form of test/integration/soak-short.test.ts, against the built server as
 * a separate process on loopback. A mixed load for a fixed time (every answer must be 201), memory
 * and descriptors sampled from /proc every second and judged for upward drift, then a run of
 * aborted uploads and then a few resumable (tus) ones, after each of which descriptors, sockets and
 * spool files must be back at their baseline (and RESUMABLE_DIR hold no upload's bytes).
 * Exits non-zero if any verdict fails.
 */

// Compiled to bench/results/build/soak.js, so the repository is three levels up.
const ROOT = path.resolve(__dirname, '..', '..', '..');
const KB = 1000;
const MB = 1000 * KB;
const MIB = 1024 * 1024;
const MIN_SIZE = 10 * KB;
const MAX_SIZE = 20 * MB;
const SIZE_STEPS = 12;
const API_KEY = 'soak-key';
// Above the connection count, so that every request is served: the 503s of a saturated gate are
// correct behaviour, but they are not what this soak measures. See MAX_CONCURRENT_UPLOADS below.
const CONCURRENCY_HEADROOM = 56;
const REQUEST_TIMEOUT_MS = 120_000;
const ABORT_BATCH = 50;
// An abort announces 8 MiB and sends 2 MiB: past the 1 MiB memory threshold, so buffered mode has
// opened a spool file when the connection goes.
const ABORT_SENT = 2 * MIB;
const ABORT_ANNOUNCED = 8 * MIB;
// Drift rule: the last quartile's median may exceed the first's by 10 % plus this slack.
const DRIFT_RATIO = 1.1;
const RSS_SLACK = 16 * MIB;
const FD_SLACK = 16;
// Longer than the stand-in's keep-alive timeout (Node's default, 5 s), so idle pooled sockets from
// the proxy to the upstream have been closed before a baseline or an after-reading is taken.
const SETTLE_MS = 6_000;
const DRAIN_LIMIT_MS = 60_000;
// Resumable (tus) uploads after the aborts: a well-formed MP4 in 5 MiB PATCHes, two at a time.
const RESUMABLE_SIZE = 12 * MIB;
const RESUMABLE_CHUNK = 5 * MIB;
const RESUMABLE_BATCH = 2;

type Mode = 'buffered' | 'streaming';

interface Options {
  readonly seconds: number;
  readonly warmup: number;
  readonly connections: number;
  readonly aborts: number;
  readonly resumables: number;
  readonly modes: readonly Mode[];
}

interface Verdict {
  readonly what: string;
  readonly figures: string;
  readonly rule: string;
  readonly pass: boolean;
}

interface ModeResult {
  readonly mode: Mode;
  readonly completed: number;
  readonly bytes: number;
  readonly statuses: Map<Outcome, number>;
  readonly samples: number;
  readonly peakHwm: number;
  readonly peakFds: number;
  readonly spoolFilesDuringAborts: number;
  readonly abortsAnsweredEarly: number;
  readonly verdicts: readonly Verdict[];
}

function progress(line: string): void {
  process.stderr.write(`[soak] ${line}\n`);
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
  return number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      aborts: { type: 'string' },
      resumables: { type: 'string' },
      mode: { type: 'string', default: 'both' },
    },
  });
  const mode = values.mode;
  if (mode !== 'both' && mode !== 'buffered' && mode !== 'streaming') throw new Error(`--mode must be buffered, streaming or both, got ${mode}`);
  return {
    seconds: positive('seconds', values.seconds, 60),
    warmup: positive('warmup', values.warmup, 10),
    connections: Math.max(1, positive('connections', values.connections, 200)),
    aborts: positive('aborts', values.aborts, 1000),
    resumables: positive('resumables', values.resumables, 6),
    modes: mode === 'both' ? ['buffered', 'streaming'] : [mode],
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

/** Log-spaced sizes from 10 KB to 20 MB, each as MP4, PNG and MP3; picking one uniformly is log-uniform in size. */
function makeFixtures(dir: string): Fixture[] {
  const samples = path.join(ROOT, 'test', 'fixtures');
  const kinds = [
    { file: 'sample.mp4', type: 'video/mp4' },
    { file: 'sample.png', type: 'image/png' },
    { file: 'sample.mp3', type: 'audio/mpeg' },
  ];
  const fixtures: Fixture[] = [];
  for (let step = 0; step < SIZE_STEPS; step += 1) {
    const size = Math.round(MIN_SIZE * (MAX_SIZE / MIN_SIZE) ** (step / (SIZE_STEPS - 1)));
    for (const kind of kinds) {
      const kindDir = path.join(dir, kind.type.replace('/', '-'));
      fs.mkdirSync(kindDir, { recursive: true });
      fixtures.push(makePadded(kindDir, path.join(samples, kind.file), size, kind.type));
    }
  }
  return fixtures;
}

async function startPair(mode: Mode, spoolDir: string, resumableDir: string, logDir: string, connections: number): Promise<{ standIn: ServerProcess; proxy: ServerProcess }> {
  const standInPort = await freePort();
  const standIn = await startServer({
    name: 'stand-in',
    command: process.execPath,
    // v1: the proxy speaks HeyGen's v1 endpoint, and the stand-in's default is v3.
    args: [path.join(ROOT, 'dist', 'dev', 'stand-in-main.js'), '--api', 'v1', '--port', String(standInPort), '--api-key', API_KEY],
    env: {},
    port: standInPort,
    logFile: path.join(logDir, `stand-in-${mode}.log`),
  });
  const port = await freePort();
  const proxy = await startServer({
    name: `proxy-${mode}`,
    command: process.execPath,
    args: startCommand(ROOT),
    env: {
      HEYGEN_API_KEY: API_KEY,
      HEYGEN_API: 'v1',
      HEYGEN_UPLOAD_URL: `http://127.0.0.1:${standInPort}/v1/asset`,
      HOST: '127.0.0.1',
      PORT: String(port),
      RATE_LIMIT_MAX: '1000000000',
      MAX_CONCURRENT_UPLOADS: String(connections + CONCURRENCY_HEADROOM),
      // Every soak connection is one client (loopback).
      MAX_UPLOADS_PER_CLIENT: String(connections + CONCURRENCY_HEADROOM),
      TMPDIR: spoolDir,
      RESUMABLE_DIR: resumableDir,
      LOG_LEVEL: 'warn',
      UPSTREAM_MODE: mode,
    },
    port,
    logFile: path.join(logDir, `proxy-${mode}.log`),
  });
  return { standIn, proxy };
}

/** `connections` loops, each uploading random fixtures until `deadline`; no new upload starts after it. */
async function load(
  port: number,
  fixtures: readonly Fixture[],
  connections: number,
  deadline: number,
  statuses: Map<Outcome, number>,
): Promise<{ completed: number; bytes: number }> {
  let completed = 0;
  let bytes = 0;
  const loop = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const fixture = fixtures[Math.floor(Math.random() * fixtures.length)]!;
      const outcome = await timedUpload(port, fixture, REQUEST_TIMEOUT_MS);
      statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
      completed += 1;
      bytes += fixture.size;
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return { completed, bytes };
}

/** Waits (bounded) until the proxy reports no upload in flight and its spool directory is empty. */
async function drain(port: number, spoolDir: string): Promise<boolean> {
  const deadline = Date.now() + DRAIN_LIMIT_MS;
  while (Date.now() < deadline) {
    if ((await uploadsInFlight(port)) === 0 && fs.readdirSync(spoolDir).length === 0) return true;
    await sleep(200);
  }
  return false;
}

function quartileMedians(samples: readonly ProcessSample[], pick: (sample: ProcessSample) => number): { first: number; last: number } {
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  return { first: median(samples.slice(0, quarter).map(pick)), last: median(samples.slice(-quarter).map(pick)) };
}

/** What a finished tus upload may leave in RESUMABLE_DIR: its completion record (`.records/`), not its bytes. */
function resumableLeftovers(resumableDir: string): number {
  return fs.readdirSync(resumableDir).filter((name) => name !== '.records').length;
}

async function runMode(mode: Mode, options: Options, fixtures: readonly Fixture[], resumableFixture: Fixture, workDir: string): Promise<ModeResult> {
  const spoolDir = fs.mkdtempSync(path.join(workDir, `spool-${mode}-`));
  const resumableDir = fs.mkdtempSync(path.join(workDir, `resumable-${mode}-`));
  const logDir = path.join(workDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  progress(`${mode}: starting the stand-in upstream and the proxy (spool ${spoolDir})`);
  const { standIn, proxy } = await startPair(mode, spoolDir, resumableDir, logDir, options.connections);
  try {
    const statuses = new Map<Outcome, number>();
    progress(`${mode}: warm-up, ${options.connections} connections for ${options.warmup} s`);
    await load(proxy.port, fixtures, options.connections, Date.now() + options.warmup * 1000, statuses);

    progress(`${mode}: mixed load, ${options.connections} connections for ${options.seconds} s`);
    const samples: ProcessSample[] = [];
    const sampler = setInterval(() => samples.push(sampleProcess(proxy.pid, spoolDir)), 1000);
    const deadline = Date.now() + options.seconds * 1000;
    // Samples stop at the deadline: the tail of in-flight uploads winding down is not steady state.
    const stopSampling = setTimeout(() => clearInterval(sampler), options.seconds * 1000);
    const { completed, bytes } = await load(proxy.port, fixtures, options.connections, deadline, statuses);
    clearInterval(sampler);
    clearTimeout(stopSampling);

    progress(`${mode}: draining, then ${SETTLE_MS / 1000} s for idle keep-alive sockets to close`);
    const drainedAfterLoad = await drain(proxy.port, spoolDir);
    await sleep(SETTLE_MS);
    const baseline = sampleProcess(proxy.pid, spoolDir);

    progress(`${mode}: ${options.aborts} aborted uploads, ${ABORT_BATCH} at a time`);
    const mp4 = fixtures.find((fixture) => fixture.contentType === 'video/mp4' && fixture.size >= ABORT_SENT) ?? fixtures[0]!;
    const prefix = Buffer.alloc(ABORT_SENT);
    const fd = fs.openSync(mp4.path, 'r');
    try {
      fs.readSync(fd, prefix, 0, Math.min(ABORT_SENT, mp4.size), 0);
    } finally {
      fs.closeSync(fd);
    }
    // inotify sees every spool file the aborts create, however short-lived: evidence that the aborts
    // really reached the spool (buffered mode), which a once-a-second readdir would miss.
    const spoolFilesSeen = new Set<string>();
    const watcher = fs.watch(spoolDir, (_event, name) => {
      if (name !== null) spoolFilesSeen.add(name);
    });
    let answeredEarly = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(ABORT_BATCH, options.aborts) }, async () => {
        while (next < options.aborts) {
          next += 1;
          if (await abortedUpload(proxy.port, mp4, prefix, ABORT_ANNOUNCED, 30_000)) answeredEarly += 1;
        }
      }),
    );
    // The cut returns once the bytes are in the kernel; the proxy reads and spools them afterwards,
    // so the watcher stays on until the proxy has drained.
    const drainedAfterAborts = await drain(proxy.port, spoolDir);
    watcher.close();
    await sleep(SETTLE_MS);
    const after = sampleProcess(proxy.pid, spoolDir);

    progress(`${mode}: ${options.resumables} resumable (tus) uploads of ${mib(resumableFixture.size)} in ${mib(RESUMABLE_CHUNK)} chunks, ${RESUMABLE_BATCH} at a time`);
    const resumableFailures: string[] = [];
    let nextResumable = 0;
    await Promise.all(
      Array.from({ length: Math.min(RESUMABLE_BATCH, options.resumables) }, async () => {
        while (nextResumable < options.resumables) {
          nextResumable += 1;
          try {
            const result = await tusUpload(proxy.port, resumableFixture, RESUMABLE_CHUNK);
            if (result.status !== 200) resumableFailures.push(`HTTP ${result.status} ${result.body.slice(0, 120)}`);
          } catch (error) {
            resumableFailures.push((error as Error).message);
          }
        }
      }),
    );
    const drainedAfterResumables = await drain(proxy.port, spoolDir);
    await sleep(SETTLE_MS);
    const afterResumables = sampleProcess(proxy.pid, spoolDir);
    const leftovers = resumableLeftovers(resumableDir);

    const unexpected = [...statuses].filter(([outcome]) => outcome !== 201).reduce((sum, [, count]) => sum + count, 0);
    const rss = quartileMedians(samples, (sample) => sample.rss);
    const fds = quartileMedians(samples, (sample) => sample.fds);
    const verdicts: Verdict[] = [
      {
        what: 'unexpected statuses (warm-up + load)',
        figures: `${unexpected} of ${[...statuses.values()].reduce((a, b) => a + b, 0)}`,
        rule: '0 (every answer 201)',
        pass: unexpected === 0,
      },
      {
        what: 'RSS drift (median Q1 -> Q4)',
        figures: `${mib(rss.first)} -> ${mib(rss.last)}`,
        rule: `Q4 <= Q1 x ${DRIFT_RATIO} + ${mib(RSS_SLACK)}`,
        pass: samples.length >= 4 && rss.last <= rss.first * DRIFT_RATIO + RSS_SLACK,
      },
      {
        what: 'open fds drift (median Q1 -> Q4)',
        figures: `${fds.first} -> ${fds.last}`,
        rule: `Q4 <= Q1 x ${DRIFT_RATIO} + ${FD_SLACK}`,
        pass: samples.length >= 4 && fds.last <= fds.first * DRIFT_RATIO + FD_SLACK,
      },
      {
        what: 'drained after load',
        figures: drainedAfterLoad ? 'in-flight 0, spool empty' : 'not within 60 s',
        rule: 'in-flight 0 and spool empty',
        pass: drainedAfterLoad,
      },
      {
        what: 'drained after aborts',
        figures: drainedAfterAborts ? 'in-flight 0, spool empty' : 'not within 60 s',
        rule: 'in-flight 0 and spool empty',
        pass: drainedAfterAborts,
      },
      {
        what: 'fds after aborts',
        figures: `${baseline.fds} -> ${after.fds}`,
        rule: '<= baseline',
        pass: after.fds <= baseline.fds,
      },
      {
        what: 'sockets after aborts',
        figures: `${baseline.sockets} -> ${after.sockets}`,
        rule: '<= baseline',
        pass: after.sockets <= baseline.sockets,
      },
      {
        what: 'temp files after aborts',
        figures: `${baseline.tempFiles} -> ${after.tempFiles}`,
        rule: '<= baseline',
        pass: after.tempFiles <= baseline.tempFiles,
      },
      {
        what: 'resumable uploads answered 200',
        figures: `${options.resumables - resumableFailures.length} of ${options.resumables}${resumableFailures[0] === undefined ? '' : ` (${resumableFailures[0]})`}`,
        rule: 'all (the last PATCH answers the record)',
        pass: resumableFailures.length === 0,
      },
      {
        what: 'drained after resumables',
        figures: drainedAfterResumables ? 'in-flight 0, spool empty' : 'not within 60 s',
        rule: 'in-flight 0 and spool empty',
        pass: drainedAfterResumables,
      },
      {
        what: 'fds after resumables',
        figures: `${baseline.fds} -> ${afterResumables.fds}`,
        rule: '<= baseline',
        pass: afterResumables.fds <= baseline.fds,
      },
      {
        what: 'sockets after resumables',
        figures: `${baseline.sockets} -> ${afterResumables.sockets}`,
        rule: '<= baseline',
        pass: afterResumables.sockets <= baseline.sockets,
      },
      {
        what: 'temp files after resumables',
        figures: `${baseline.tempFiles} -> ${afterResumables.tempFiles}`,
        rule: '<= baseline',
        pass: afterResumables.tempFiles <= baseline.tempFiles,
      },
      {
        what: 'RESUMABLE_DIR after resumables',
        figures: `${leftovers} entries besides .records/`,
        rule: '0 (the bytes are removed once HeyGen has the file)',
        pass: leftovers === 0,
      },
    ];
    return {
      mode,
      completed,
      bytes,
      statuses,
      samples: samples.length,
      peakHwm: Math.max(after.hwm, afterResumables.hwm, ...samples.map((sample) => sample.hwm)),
      peakFds: Math.max(...samples.map((sample) => sample.fds)),
      spoolFilesDuringAborts: spoolFilesSeen.size,
      abortsAnsweredEarly: answeredEarly,
      verdicts,
    };
  } finally {
    await stopServer(proxy);
    await stopServer(standIn);
  }
}

function render(options: Options, results: readonly ModeResult[]): string {
  const lines: string[] = [];
  lines.push(
    `soak: ${options.connections} connections, ${options.warmup} s warm-up + ${options.seconds} s load, ` +
      `sizes ${MIN_SIZE / KB} KB-${MAX_SIZE / MB} MB log-uniform (MP4/PNG/MP3), ${options.aborts} aborts ` +
      `(${ABORT_SENT / MIB} of ${ABORT_ANNOUNCED / MIB} MiB sent, ${ABORT_BATCH} at a time), ` +
      `${options.resumables} resumable uploads (${mib(RESUMABLE_SIZE)} MP4 in ${mib(RESUMABLE_CHUNK)} PATCHes, ${RESUMABLE_BATCH} at a time), ` +
      `MAX_CONCURRENT_UPLOADS=${options.connections + CONCURRENCY_HEADROOM}`,
  );
  for (const result of results) {
    const statuses = [...result.statuses].map(([outcome, count]) => `${outcome}: ${count}`).join(', ');
    const rate = result.completed / options.seconds;
    lines.push('');
    lines.push(`## UPSTREAM_MODE=${result.mode}`);
    lines.push(
      `load: ${result.completed} uploads in ${options.seconds} s (${rate.toFixed(1)}/s, ${mib(result.bytes / options.seconds)}/s); ` +
        `statuses {${statuses}}`,
    );
    lines.push(
      `proxy: ${result.samples} samples; peak RSS (VmHWM) ${mib(result.peakHwm)}; peak fds ${result.peakFds}; ` +
        `spool files created by the aborts ${result.spoolFilesDuringAborts}; aborts the proxy answered before the cut ${result.abortsAnsweredEarly}`,
    );
    const width = Math.max(...result.verdicts.map((verdict) => verdict.what.length));
    const figWidth = Math.max(...result.verdicts.map((verdict) => verdict.figures.length));
    for (const verdict of result.verdicts) {
      lines.push(`  ${verdict.pass ? 'PASS' : 'FAIL'}  ${verdict.what.padEnd(width)}  ${verdict.figures.padEnd(figWidth)}  (${verdict.rule})`);
    }
  }
  const failed = results.flatMap((result) => result.verdicts.filter((verdict) => !verdict.pass).map((verdict) => `${result.mode}: ${verdict.what}`));
  lines.push('');
  lines.push(failed.length === 0 ? 'soak: all verdicts pass' : `soak: FAILED: ${failed.join('; ')}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions();
  installExitHandlers();
  if (!fs.existsSync(path.join(ROOT, 'dist', 'server.js'))) throw new Error('dist/server.js is missing: run `npm run build` first');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'heygen-soak-'));
  onExit(() => fs.rmSync(workDir, { recursive: true, force: true }));
  progress(`writing upload files to ${workDir}`);
  const fixtures = makeFixtures(path.join(workDir, 'files'));
  // A well-formed MP4 (sample + `free` box): the finished upload goes through the structure check.
  const resumableFixture = makeSizedVideo(path.join(workDir, 'files'), path.join(ROOT, 'test', 'fixtures', 'sample.mp4'), RESUMABLE_SIZE);
  const results: ModeResult[] = [];
  for (const mode of options.modes) results.push(await runMode(mode, options, fixtures, resumableFixture, workDir));
  process.stdout.write(`${render(options, results)}\n`);
  process.exitCode = results.every((result) => result.verdicts.every((verdict) => verdict.pass)) ? 0 : 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`soak failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(2);
});
