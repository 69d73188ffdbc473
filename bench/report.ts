import type { ContenderId } from './contenders';
import type { Sample, ScenarioId } from './scenarios';

export interface ContenderResult {
  readonly id: ContenderId;
  readonly label: string;
  /** Set when the contender could not run at all (e.g. the project is not built): shown, not failed. */
  readonly skipped?: string;
  /** Set when it should have run but did not start or broke; the run then exits non-zero. */
  readonly error?: string;
  /** VmRSS of the fresh server, listening and untouched, after a short settle (before the warm-up). */
  readonly idleRss?: number;
  readonly samples: Sample[];
}

export interface ScenarioResult {
  readonly id: ScenarioId;
  readonly title: string;
  readonly contenders: ContenderResult[];
}

export interface RunInfo {
  readonly date: string;
  readonly command: string;
  readonly cores: number;
  readonly cpu: string;
  readonly node: string;
  /** The node the servers under test ran on (--node), when it differs from the client's. */
  readonly serverNode: string;
  readonly kernel: string;
  readonly memory: string;
  readonly reps: number;
  readonly seconds: number;
}

const MB = 1_000_000;

type NumericField = 'ms' | 'rss' | 'cpu' | 'fullGcs' | 'rps' | 'p50' | 'p99';

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function pick(result: ContenderResult | undefined, key: NumericField): number[] {
  return (result?.samples ?? []).map((sample) => sample[key]).filter((value): value is number => value !== undefined);
}

function medianOf(result: ContenderResult | undefined, key: NumericField): number | undefined {
  return median(pick(result, key));
}

/** Memory targets are judged on the worst repetition, so one spike cannot hide behind a median. */
function maxOf(result: ContenderResult | undefined, key: 'rss'): number | undefined {
  const values = pick(result, key);
  return values.length === 0 ? undefined : Math.max(...values);
}

const seconds = (ms: number | undefined): string => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const megabytes = (bytes: number | undefined): string => (bytes === undefined ? '—' : `${(bytes / MB).toFixed(1)} MB`);
const fixed = (value: number | undefined, digits = 0): string => (value === undefined ? '—' : value.toFixed(digits));

function succeeded(result: ContenderResult): string {
  const ok = result.samples.reduce((sum, sample) => sum + sample.ok, 0);
  const failed = result.samples.reduce((sum, sample) => sum + sample.failed, 0);
  return `${ok}/${ok + failed}`;
}

function absent(result: ContenderResult): string | undefined {
  if (result.skipped !== undefined) return `skipped: ${result.skipped}`;
  if (result.error !== undefined) return `**failed**: ${result.error.split('\n')[0] ?? ''}`;
  return undefined;
}

function scenarioTable(scenario: ScenarioResult): string[] {
  const direct = medianOf(
    scenario.contenders.find((result) => result.id === 'direct'),
    'ms',
  );
  if (scenario.id === 'small' || scenario.id === 'v3-small' || scenario.id === 'tus-create' || scenario.id === 'tus-create-stored') {
    const lines = [
      '| contender | req/s | p50 latency | p99 latency | errors | idle RSS | peak RSS median (max) | server CPU | full GCs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const result of scenario.contenders) {
      const why = absent(result);
      if (why !== undefined) {
        lines.push(`| ${result.label} | ${why} | | | | | | | |`);
        continue;
      }
      const failed = result.samples.reduce((sum, sample) => sum + sample.failed, 0);
      lines.push(
        `| ${result.label} | ${fixed(medianOf(result, 'rps'))} | ${fixed(medianOf(result, 'p50'))} ms | ${fixed(medianOf(result, 'p99'))} ms | ${failed} | ${idleCell(result)} | ${rssCell(result)} | ${cpuCell(result)} | ${gcCell(result)} |`,
      );
    }
    return lines;
  }
  const timeHeader = scenario.id === 'concurrent' ? 'wall time' : 'time';
  const lines = [
    `| contender | ${timeHeader} (median) | × direct | idle RSS | peak RSS median (max) | server CPU | full GCs | succeeded |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const result of scenario.contenders) {
    const why = absent(result);
    if (why !== undefined) {
      lines.push(`| ${result.label} | ${why} | | | | | | |`);
      continue;
    }
    const time = medianOf(result, 'ms');
    const ratio = time !== undefined && direct !== undefined ? `${(time / direct).toFixed(2)}×` : '—';
    lines.push(
      `| ${result.label} | ${seconds(time)} | ${ratio} | ${idleCell(result)} | ${rssCell(result)} | ${cpuCell(result)} | ${gcCell(result)} | ${succeeded(result)} |`,
    );
  }
  return lines;
}

function idleCell(result: ContenderResult): string {
  return result.id === 'direct' ? '—' : megabytes(result.idleRss);
}

function rssCell(result: ContenderResult): string {
  if (result.id === 'direct') return '— (no server)';
  return `${megabytes(medianOf(result, 'rss'))} (${megabytes(maxOf(result, 'rss'))})`;
}

function cpuCell(result: ContenderResult): string {
  const cpu = medianOf(result, 'cpu');
  return result.id === 'direct' || cpu === undefined ? '—' : `${cpu.toFixed(2)} s`;
}

/** Median full (mark-compact) collections per repetition: the cost the CPU column does not explain. */
function gcCell(result: ContenderResult): string {
  const gcs = medianOf(result, 'fullGcs');
  return result.id === 'direct' || gcs === undefined ? '—' : fixed(gcs);
}

interface Verdict {
  readonly target: string;
  readonly measured: string;
  readonly verdict: string;
}

function find(results: readonly ScenarioResult[], scenario: ScenarioId, id: ContenderId): ContenderResult | undefined {
  const result = results.find((candidate) => candidate.id === scenario)?.contenders.find((candidate) => candidate.id === id);
  return result === undefined || absent(result) !== undefined ? undefined : result;
}

function allSucceeded(result: ContenderResult): boolean {
  return result.samples.length > 0 && result.samples.every((sample) => sample.failed === 0);
}

/** "holds" or "misses by N%": how far a measured value is from its limit, in the limit's direction. */
function judge(value: number, limit: number, atMost: boolean, extra = true): string {
  const holds = (atMost ? value <= limit : value >= limit) && extra;
  if (holds) return '✅ holds';
  if (!extra) return '❌ misses (failed requests)';
  const by = atMost ? (value / limit - 1) * 100 : (1 - value / limit) * 100;
  // One decimal for near misses, so a ratio shown as 1.10× against 1.1 does not read "misses by 0%".
  return `❌ misses by ${by < 10 ? by.toFixed(1) : by.toFixed(0)}%`;
}

const NOT_RUN: Omit<Verdict, 'target'> = { measured: '—', verdict: 'not run' };

export function verdicts(results: readonly ScenarioResult[]): Verdict[] {
  const rows: Verdict[] = [];
  const modes = [
    { id: 'project-streaming', v3: 'project-v3-streaming', mode: 'streaming', floor: 'stream-relay', floorName: 'minimal streaming relay' },
    { id: 'project-buffered', v3: 'project-v3-buffered', mode: 'buffered', floor: 'spool-relay', floorName: 'minimal spooling relay' },
  ] as const;
  const titleOf = (scenario: ScenarioId): string => results.find((candidate) => candidate.id === scenario)?.title ?? scenario;
  // Issue 24's targets.
  for (const { id, mode, floor, floorName } of modes) {
    const limit = mode === 'streaming' ? 1.05 : 1;
    const target = `${mode}: single-upload time ≤ ${limit}× ${floorName}`;
    rows.push(timeRatio(target, find(results, 'single', id), find(results, 'single', floor), limit));
  }
  for (const { id, v3, mode } of modes) rows.push(idleAtMost(`${mode}: idle RSS ≤ 70 MB (worst fresh server of the run)`, results, [id, v3], 70));
  for (const { scenario, limit } of [
    { scenario: 'large', limit: 110 },
    { scenario: 'concurrent', limit: 140 },
  ] as const) {
    for (const { id, mode } of modes) {
      const target = `${mode}: peak RSS ≤ ${limit} MB, ${titleOf(scenario)}${scenario === 'concurrent' ? ', all succeed' : ''}`;
      rows.push(peakAtMost(target, find(results, scenario, id), limit));
    }
  }
  // Small files: every control on, against the code people write without any (the tutorial proxy).
  // v1 is retired by HeyGen: reported, no longer a target (it must not get worse).
  for (const { id, mode } of modes) {
    rows.push(vsTutorial(`${mode}: small files against the tutorial proxy (v1, no target)`, find(results, 'small', id), find(results, 'small', 'tutorial'), true, undefined));
  }
  // HeyGen v3: the project under HEYGEN_API=v3 against the same sink, speaking v3.
  for (const { v3, mode } of modes) {
    rows.push(
      vsTutorial(`v3 ${mode}: small files ≥ 1.2× tutorial proxy req/s, zero errors, p99 ≤ the tutorial's`, find(results, 'v3-small', v3), find(results, 'v3-small', 'tutorial'), true, 1.2),
    );
  }
  const direct = titleOf('v3-direct').replace(/^HeyGen v3 /, '');
  for (const { v3, mode } of modes) {
    const target = `v3 ${mode}: time ≤ 1.0× minimal direct-upload relay, ${direct}`;
    rows.push(timeRatio(target, find(results, 'v3-direct', v3), find(results, 'v3-direct', 'direct-upload-relay'), 1));
  }
  for (const { v3, mode } of modes) {
    rows.push(peakAtMost(`v3 ${mode}: peak RSS ≤ 110 MB, ${direct}, all succeed`, find(results, 'v3-direct', v3), 110));
  }
  // Resumable (tus): the issue's "memory stays flat" for a 150 MiB upload in 5 MiB chunks.
  // The run's own sizes (the smoke run's are tiny); the full run's when the scenario did not run.
  const resumableTitle = results.find((candidate) => candidate.id === 'resumable')?.title;
  const resumable = resumableTitle === undefined ? 'a 150 MiB upload in 5 MiB chunks' : resumableTitle.replace(/^.*: one /, 'a ');
  for (const { v3, mode } of modes) {
    rows.push(peakAtMost(`resumable: peak RSS ≤ 110 MB for ${resumable} (v3 ${mode}), all succeed`, find(results, 'resumable', v3), 110));
  }
  // Admitting a tus creation costs the same whatever the store holds (running totals, no scan).
  const stored = titleOf('tus-create-stored').replace(/^.*holding /, '');
  for (const { v3, mode } of modes) {
    const own = find(results, 'tus-create-stored', v3);
    const empty = find(results, 'tus-create', v3);
    const ownRps = medianOf(own, 'rps');
    const base = medianOf(empty, 'rps');
    const target = `v3 ${mode}: tus creations with ${stored} stored ≥ 0.9× with an empty store, zero errors`;
    rows.push(
      own === undefined || ownRps === undefined || base === undefined
        ? { target, ...NOT_RUN }
        : { target, measured: `${(ownRps / base).toFixed(2)}× (${fixed(ownRps)} vs ${fixed(base)} req/s)`, verdict: judge(ownRps / base, 0.9, false, allSucceeded(own)) },
    );
  }
  // No target: how much each process rises above its own idle, against the minimal relay doing the same.
  for (const { scenario, relay } of [
    { scenario: 'large', relay: { streaming: 'stream-relay', buffered: 'spool-relay' } },
    { scenario: 'concurrent', relay: { streaming: 'stream-relay', buffered: 'spool-relay' } },
    { scenario: 'v3-direct', relay: { streaming: 'direct-upload-relay', buffered: 'direct-upload-relay' } },
  ] as const) {
    for (const { id, v3, mode } of modes) {
      const own = find(results, scenario, scenario === 'v3-direct' ? v3 : id);
      const base = find(results, scenario, relay[mode]);
      const title = scenario === 'v3-direct' ? `v3 ${mode}: rise above idle, ${direct}` : `${mode}: rise above idle, ${titleOf(scenario)}`;
      rows.push(riseAboveIdle(title, own, base));
    }
  }
  return rows;
}

function timeRatio(target: string, own: ContenderResult | undefined, base: ContenderResult | undefined, limit: number): Verdict {
  const ownMs = medianOf(own, 'ms');
  const baseMs = medianOf(base, 'ms');
  if (own === undefined || ownMs === undefined || baseMs === undefined) return { target, ...NOT_RUN };
  return { target, measured: `${(ownMs / baseMs).toFixed(2)}× (${seconds(ownMs)} vs ${seconds(baseMs)})`, verdict: judge(ownMs / baseMs, limit, true, allSucceeded(own)) };
}

/** The highest idle RSS of any fresh server of these contenders in the run (each scenario starts its own). */
function idleAtMost(target: string, results: readonly ScenarioResult[], ids: readonly ContenderId[], limit: number): Verdict {
  const idles = results.flatMap((scenario) => scenario.contenders.filter((result) => ids.includes(result.id) && absent(result) === undefined).map((result) => result.idleRss));
  const known = idles.filter((idle): idle is number => idle !== undefined);
  if (known.length === 0) return { target, ...NOT_RUN };
  const worst = Math.max(...known);
  return { target, measured: `${megabytes(worst)} (worst of ${known.length} servers)`, verdict: judge(worst / MB, limit, true) };
}

function peakAtMost(target: string, result: ContenderResult | undefined, limit: number): Verdict {
  const peak = maxOf(result, 'rss');
  if (result === undefined || peak === undefined) return { target, ...NOT_RUN };
  return { target, measured: `${megabytes(peak)} (worst rep), ${succeeded(result)} ok`, verdict: judge(peak / MB, limit, true, allSucceeded(result)) };
}

/**
 * req/s against the tutorial proxy's; `errorsCount`: a failed request fails the target too (p99 shown
 * beside). `ratio`: the target's ratio, its p99 at or below the tutorial's too; undefined: reported only.
 */
function vsTutorial(target: string, own: ContenderResult | undefined, tutorial: ContenderResult | undefined, errorsCount: boolean, ratio: number | undefined): Verdict {
  const ownRps = medianOf(own, 'rps');
  const base = medianOf(tutorial, 'rps');
  if (own === undefined || ownRps === undefined || base === undefined) return { target, ...NOT_RUN };
  const ownP99 = medianOf(own, 'p99');
  const baseP99 = medianOf(tutorial, 'p99');
  const p99 = errorsCount ? `; p99 ${fixed(ownP99)} vs ${fixed(baseP99)} ms` : '';
  const measured = `${(ownRps / base).toFixed(2)}× (${fixed(ownRps)} vs ${fixed(base)} req/s${p99})`;
  if (ratio === undefined) return { target, measured, verdict: 'reported (no target)' };
  const p99Holds = ownP99 === undefined || baseP99 === undefined || ownP99 <= baseP99;
  const verdict = judge(ownRps / base, ratio, false, errorsCount ? allSucceeded(own) : true);
  return { target, measured, verdict: verdict.startsWith('✅') && !p99Holds ? '❌ misses (p99 above the tutorial’s)' : verdict };
}

/** The worst repetition's peak less the process's idle RSS, for the project and for its minimal relay. */
function riseAboveIdle(target: string, own: ContenderResult | undefined, relay: ContenderResult | undefined): Verdict {
  const rise = (result: ContenderResult | undefined): { rise: number; idle: number; peak: number } | undefined => {
    const peak = maxOf(result, 'rss');
    const idle = result?.idleRss;
    return peak === undefined || idle === undefined ? undefined : { rise: peak - idle, idle, peak };
  };
  const a = rise(own);
  const b = rise(relay);
  if (a === undefined || b === undefined || relay === undefined) return { target, ...NOT_RUN };
  const shown = (x: { rise: number; idle: number; peak: number }): string => `+${megabytes(x.rise)} (${megabytes(x.idle)} → ${megabytes(x.peak)})`;
  const ratio = b.rise > 0 ? ` = ${(a.rise / b.rise).toFixed(2)}×` : '';
  return { target, measured: `${shown(a)} vs ${relay.label.split(' (')[0] ?? relay.id} ${shown(b)}${ratio}`, verdict: 'reported (no target)' };
}

/**
 * `appendix` is hand-written Markdown (bench/changes.md: what was changed and what it gained), kept
 * apart so that a regenerated table does not drop it.
 */
export function renderReport(
  info: RunInfo,
  results: readonly ScenarioResult[],
  notes: readonly string[],
  appendix?: string,
): string {
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`${info.command}\` on ${info.date} (${Math.round(info.seconds)} s). Regenerate with the same command; see \`bench/\`.`,
    '',
    `Machine: ${info.cores} cores (${info.cpu}), ${info.memory} RAM, Linux ${info.kernel}, Node.js ${info.node}` +
      `${info.serverNode === info.node ? '' : ` (servers under test on Node.js ${info.serverNode})`}. ` +
      'Client, sink and servers share these cores, as they would on a small replica.',
    '',
    `Method: ${info.reps} repetition(s) per scenario, contenders alternating (A B C … A B C …) so drift hits all alike; ` +
      'each cell is the median of the repetitions. Every scenario starts fresh server processes and warms each up; ' +
      'peak RSS is the server process’s own VmHWM (/proc/PID/status), reset through /proc/PID/clear_refs before each ' +
      'repetition; memory targets are judged on the worst repetition. Idle RSS is each fresh server’s VmRSS once it listens, ' +
      'after a short settle and before its warm-up; "rise above idle" is the worst peak less that. MB = 10⁶ bytes. Server CPU is the ' +
      'user + system time the server process used during the repetition (/proc/PID/stat). Full GCs are the mark-compact ' +
      'collections the server ran in a repetition (every server runs with `--trace-gc`; median shown). Uploads are real files ' +
      '(the sample MP4 followed by a `free` box of random bytes, an ~80 KB noise PNG) streamed by a node:http client with exact Content-Length. ' +
      'The upstream is one discard sink (bench/servers/sink.ts) that speaks HeyGen v1 and v3: the v3 scenarios run the project under ' +
      '`HEYGEN_API=v3`, whose files above 32,000,000 bytes go by direct upload (create, PUT to the sink’s storage route, complete).',
    '',
    ...notes.map((note) => `> ${note}`),
    ...(notes.length > 0 ? [''] : []),
  ];
  for (const scenario of results) {
    lines.push(`## ${scenario.title}`, '', ...scenarioTable(scenario), '');
  }
  lines.push('## Targets', '', '| target | measured | verdict |', '|---|---|---|');
  for (const row of verdicts(results)) lines.push(`| ${row.target} | ${row.measured} | ${row.verdict} |`);
  lines.push('');
  if (appendix !== undefined && appendix.trim() !== '') lines.push(appendix.trim(), '');
  return lines.join('\n');
}
