import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONTENDER_IDS, type Contender, type Layout, contenders, labelFor, projectUnavailable, startContender, startSink } from './contenders';
import { type Fixture, makePng, makeSizedVideo } from './fixtures';
import { summariseMemory } from './memory-summary';
import { summariseProfile } from './profile-summary';
import { canMeasureMemory, cpuSeconds, currentRss, peakRss, resetPeakRss } from './proc-stats';
import { type Options, parseOptions } from './options';
import { installExitHandlers, onExit, type ServerProcess, stopServer } from './processes';
import { type ContenderResult, renderReport, type ScenarioResult } from './report';
import { type Fixtures, SCENARIO_IDS, type Scenario, scenarios } from './scenarios';

// Compiled to bench/results/build/run.js, so the repository is three levels up.
const ROOT = path.resolve(__dirname, '..', '..', '..');

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Builds the project the way `npm run build` does; a failure skips the project, it does not stop the run. */
function buildProject(project: string): string | undefined {
  if (!fs.existsSync(path.join(project, 'src', 'server.ts'))) return 'src/server.ts does not exist yet';
  progress(`building the project in ${project} (tsc -p tsconfig.build.json)`);
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: project, encoding: 'utf8' });
  if (build.status === 0) return undefined;
  return `the build failed: ${(build.stdout + build.stderr).trim().split('\n')[0] ?? ''}`;
}

function makeFixtures(options: Options, dir: string): Fixtures {
  const sampleMp4 = path.join(ROOT, 'test', 'fixtures', 'sample.mp4');
  const { sizes } = options;
  progress(`writing upload files to ${dir}`);
  // One file per size: the smoke run's v3 direct upload and its warm-up are the same 32 MiB.
  const made = new Map<number, Fixture>();
  const video = (size: number): Fixture => {
    const fixture = made.get(size) ?? makeSizedVideo(dir, sampleMp4, size);
    made.set(size, fixture);
    return fixture;
  };
  return {
    single: video(sizes.single),
    concurrent: video(sizes.concurrentSize),
    large: video(sizes.large),
    warm: video(sizes.warm),
    png: makePng(dir),
    v3Direct: video(sizes.v3Direct),
    v3DirectWarm: video(sizes.v3DirectWarm),
    resumable: video(sizes.resumable),
  };
}

async function runScenario(
  scenario: Scenario,
  everyone: readonly Contender[],
  layout: Layout,
  sinkPort: number,
  options: Options,
  work: string,
): Promise<ScenarioResult> {
  progress(`scenario ${scenario.id}: ${scenario.title}`);
  const { reps } = options;
  const lineup = everyone.filter((contender) => scenario.lineup.includes(contender.id));
  const results: ContenderResult[] = lineup.map((contender) => ({
    id: contender.id,
    label: labelFor(contender, scenario.api),
    skipped: contender.unavailable,
    samples: [],
  }));
  // Fresh processes per scenario: the previous scenario's heap and temp files cannot colour this one.
  const servers = new Map<string, ServerProcess | undefined>();
  // A resumable scenario gives each server its own fresh RESUMABLE_DIR, removed once the server is stopped.
  const resumableDirs: string[] = [];
  const live: { contender: Contender; result: ContenderResult; server: ServerProcess | undefined }[] = [];
  const fail = (index: number, error: unknown): void => {
    const result = results[index];
    if (result !== undefined) results[index] = { ...result, error: (error as Error).message };
    progress(`  ${lineup[index]?.id ?? '?'}: ${(error as Error).message}`);
  };
  try {
    const started: number[] = [];
    for (const [index, contender] of lineup.entries()) {
      if (contender.unavailable !== undefined) continue;
      try {
        // Every server gets its own fresh, empty RESUMABLE_DIR, as a new replica has: uploads another
        // run left in the default one would make the project build its tus intake at start.
        const dir = fs.mkdtempSync(path.join(work, `resumable-${contender.id}-`));
        resumableDirs.push(dir);
        servers.set(contender.id, await startContender(contender, layout, sinkPort, scenario.id, scenario.api, { RESUMABLE_DIR: dir }));
        started.push(index);
      } catch (error) {
        fail(index, error);
      }
    }
    // Idle RSS: every fresh server, listening and untouched, after the same short settle.
    await new Promise((resolve) => setTimeout(resolve, options.sizes.settleMs));
    for (const index of started) {
      const server = servers.get(lineup[index]?.id ?? '');
      const result = results[index];
      if (server !== undefined && result !== undefined) results[index] = { ...result, idleRss: currentRss(server.pid) };
    }
    for (const index of started) {
      const contender = lineup[index];
      const result = results[index];
      if (contender === undefined || result === undefined) continue;
      const server = servers.get(contender.id);
      try {
        await scenario.warm({ port: server?.port ?? sinkPort, multipart: contender.multipart });
        live.push({ contender, result, server });
      } catch (error) {
        fail(index, error);
      }
    }
    for (let rep = 1; rep <= reps; rep += 1) {
      for (const { contender, result, server } of live) {
        if (server) resetPeakRss(server.pid);
        const logOffset = server ? fs.statSync(server.logFile).size : 0;
        const cpuBefore = server ? cpuSeconds(server.pid) : undefined;
        const sample = await scenario.measure({ port: server?.port ?? sinkPort, multipart: contender.multipart });
        const rss = server ? peakRss(server.pid) : undefined;
        const cpuAfter = server ? cpuSeconds(server.pid) : undefined;
        const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
        const fullGcs = server ? countFullGcs(server.logFile, logOffset) : undefined;
        result.samples.push({ ...sample, rss, cpu, fullGcs });
        const shown = [
          sample.ms === undefined ? '' : `${(sample.ms / 1000).toFixed(2)} s`,
          sample.rps === undefined ? '' : `${sample.rps.toFixed(0)} req/s`,
          rss === undefined ? '' : `peak ${(rss / 1e6).toFixed(1)} MB`,
          cpu === undefined ? '' : `cpu ${cpu.toFixed(2)} s`,
          fullGcs === undefined ? '' : `${fullGcs} full GC`,
          `${sample.ok} ok, ${sample.failed} failed${sample.firstFailure ? ` (${sample.firstFailure})` : ''}`,
        ].filter((part) => part !== '');
        progress(`  rep ${rep}/${reps} ${contender.id}: ${shown.join(', ')}`);
      }
    }
  } finally {
    for (const server of servers.values()) if (server) await stopServer(server);
    for (const dir of resumableDirs) fs.rmSync(dir, { recursive: true, force: true });
  }
  return { id: scenario.id, title: scenario.title, contenders: results };
}

function outputPath(options: Options, partial: boolean): string {
  if (options.out !== undefined) return path.resolve(options.out);
  if (options.smoke) return path.join(ROOT, 'bench', 'results', 'smoke.md');
  if (partial) return path.join(ROOT, 'bench', 'results', 'partial.md');
  return path.join(ROOT, 'BENCHMARKS.md');
}

/** `node --version` of another binary; fails the run at once when it is not a node that runs. */
function nodeVersion(binary: string): string {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`--node ${binary} does not run: ${result.error?.message ?? result.stderr.trim()}`);
  return result.stdout.trim();
}

/** Mark-compact lines --trace-gc wrote to a server's log since `offset` (its size before the repetition). */
function countFullGcs(logFile: string, offset: number): number {
  // Only the repetition's part: a small-file run logs megabytes of request lines.
  const fd = fs.openSync(logFile, 'r');
  try {
    const added = Buffer.alloc(Math.max(0, fs.fstatSync(fd).size - offset));
    fs.readSync(fd, added, 0, added.length, offset);
    return added.toString('latin1').split('Mark-Compact').length - 1;
  } finally {
    fs.closeSync(fd);
  }
}

/** One row per server: what its sampled peak was made of. */
function writeMemorySummary(memoryDir: string): void {
  const summary = path.join(memoryDir, 'summary.md');
  fs.writeFileSync(summary, `# What each benchmarked server's memory peak is made of (MB = 10⁶ bytes)\n\n${summariseMemory(memoryDir)}\n`);
  progress(`memory breakdown of each server's sampled peak in ${path.relative(ROOT, summary)}`);
}

/** One section per profile the servers wrote (a server killed before exiting writes none). */
function writeProfileSummary(profileDir: string): void {
  const profiles = fs.readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile')).sort();
  const sections = profiles.map((name) => `## ${name}\n\n${summariseProfile(path.join(profileDir, name))}\n`);
  const summary = path.join(profileDir, 'summary.md');
  fs.writeFileSync(summary, `# CPU profiles of the benchmarked servers\n\n${sections.join('\n')}`);
  progress(`${profiles.length} CPU profile(s) and their summary in ${path.relative(ROOT, profileDir)}/ (open a .cpuprofile in Chrome DevTools)`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  installExitHandlers();
  const serverNode = options.node ?? process.execPath;
  const serverNodeVersion = serverNode === process.execPath ? process.version : nodeVersion(serverNode);
  const started = performance.now();
  const notes: string[] = [];
  if (!canMeasureMemory()) notes.push('This OS has no /proc/PID/clear_refs: peak RSS is each process’s lifetime peak.');

  const project = path.resolve(options.project ?? ROOT);
  const buildFailure = options.build ? buildProject(project) : undefined;
  const unavailable = projectUnavailable(project, buildFailure);
  if (unavailable !== undefined) {
    progress(`project contenders skipped: ${unavailable}`);
    notes.push(`Project contenders skipped: ${unavailable}.`);
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'upload-proxy-bench-'));
  onExit(() => fs.rmSync(work, { recursive: true, force: true }));
  const profileDir = options.profile ? path.join(ROOT, 'bench', 'results', 'profiles') : undefined;
  if (profileDir !== undefined) {
    fs.rmSync(profileDir, { recursive: true, force: true });
    fs.mkdirSync(profileDir, { recursive: true });
  }
  const memoryDir = options.memoryProfile ? path.join(ROOT, 'bench', 'results', 'memory') : undefined;
  if (memoryDir !== undefined) {
    fs.rmSync(memoryDir, { recursive: true, force: true });
    fs.mkdirSync(memoryDir, { recursive: true });
  }
  const layout: Layout = { project, buildDir: __dirname, logDir: path.join(work, 'logs'), profileDir, memoryDir, serverNode };
  fs.mkdirSync(layout.logDir);
  const fixtures = makeFixtures(options, work);
  const lineup = contenders(unavailable).filter((contender) => options.contenders.includes(contender.id));
  const sink = await startSink(layout, options.smoke);

  const results: ScenarioResult[] = [];
  try {
    for (const scenario of scenarios(options.sizes, fixtures)) {
      if (options.only.includes(scenario.id)) results.push(await runScenario(scenario, lineup, layout, sink.port, options, work));
    }
  } finally {
    await stopServer(sink);
  }

  const info = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' '),
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    serverNode: serverNodeVersion,
    kernel: os.release(),
    memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    reps: options.reps,
    seconds: (performance.now() - started) / 1000,
  };
  const changes = path.join(ROOT, 'bench', 'changes.md');
  const appendix = fs.existsSync(changes) ? fs.readFileSync(changes, 'utf8') : undefined;
  const report = renderReport(info, results, notes, appendix);
  // A profiled or sampled run carries what observes it, so like a partial run it never becomes BENCHMARKS.md.
  const partial = options.only.length < SCENARIO_IDS.length || options.contenders.length < CONTENDER_IDS.length || options.profile || options.memoryProfile;
  const out = outputPath(options, partial);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, report);
  fs.mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'bench', 'results', 'last-run.json'), JSON.stringify({ info, results }, null, 2));
  process.stdout.write(report);
  progress(`table written to ${path.relative(ROOT, out)}`);
  if (profileDir !== undefined) writeProfileSummary(profileDir);
  if (memoryDir !== undefined) writeMemorySummary(memoryDir);

  // Broken contenders or failed requests make the run fail; slow numbers never do (not a test).
  const broken = results.some((scenario) =>
    scenario.contenders.some((result) => result.error !== undefined || result.samples.some((sample) => sample.failed > 0 && result.id !== 'tutorial')),
  );
  return broken ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
