import type { ContenderId } from './contenders';
import type { Sample, ScenarioId } from './scenarios';

export interface ContenderResult {
  readonly id: ContenderId;
  readonly label: string;
  /** Set when the contender could not run at all (e.g. the project is not built): shown, not failed. */
  readonly skipped?: string;
  /** Set when it should have run but did not start or broke; the run then exits non-zero. */
  readonly error?: string;
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
  if (scenario.id === 'small') {
    const lines = [
      '| contender | req/s | p50 latency | p99 latency | errors | peak RSS median (max) | server CPU | full GCs |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const result of scenario.contenders) {
      const why = absent(result);
      if (why !== undefined) {
        lines.push(`| ${result.label} | ${why} | | | | | | |`);
        continue;
      }
      const failed = result.samples.reduce((sum, sample) => sum + sample.failed, 0);
      lines.push(
        `| ${result.label} | ${fixed(medianOf(result, 'rps'))} | ${fixed(medianOf(result, 'p50'))} ms | ${fixed(medianOf(result, 'p99'))} ms | ${failed} | ${rssCell(result)} | ${cpuCell(result)} | ${gcCell(result)} |`,
      );
    }
    return lines;
  }
  const timeHeader = scenario.id === 'concurrent' ? 'wall time' : 'time';
  const lines = [
    `| contender | ${timeHeader} (median) | × direct | peak RSS median (max) | server CPU | full GCs | succeeded |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const result of scenario.contenders) {
    const why = absent(result);
    if (why !== undefined) {
      lines.push(`| ${result.label} | ${why} | | | | | |`);
      continue;
    }
    const time = medianOf(result, 'ms');
    const ratio = time !== undefined && direct !== undefined ? `${(time / direct).toFixed(2)}×` : '—';
    lines.push(`| ${result.label} | ${seconds(time)} | ${ratio} | ${rssCell(result)} | ${cpuCell(result)} | ${gcCell(result)} | ${succeeded(result)} |`);
  }
  return lines;
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
    { id: 'project-streaming', mode: 'streaming', floor: 'stream-relay', floorName: 'minimal streaming relay' },
    { id: 'project-buffered', mode: 'buffered', floor: 'spool-relay', floorName: 'minimal spooling relay' },
  ] as const;
  for (const { id, mode, floor, floorName } of modes) {
    const target = `${mode}: single-upload time ≤ 1.1× ${floorName}`;
    const own = medianOf(find(results, 'single', id), 'ms');
    const base = medianOf(find(results, 'single', floor), 'ms');
    rows.push(own === undefined || base === undefined ? { target, ...NOT_RUN } : { target, measured: `${(own / base).toFixed(2)}× (${seconds(own)} vs ${seconds(base)})`, verdict: judge(own / base, 1.1, true) });
  }
  for (const { scenario, limit } of [
    { scenario: 'large', limit: 96 },
    { scenario: 'concurrent', limit: 128 },
  ] as const) {
    for (const { id, mode } of modes) {
      const title = results.find((candidate) => candidate.id === scenario)?.title ?? scenario;
      const target = `${mode}: peak RSS ≤ ${limit} MB, ${title}${scenario === 'concurrent' ? ', all succeed' : ''}`;
      const result = find(results, scenario, id);
      const peak = maxOf(result, 'rss');
      rows.push(
        result === undefined || peak === undefined
          ? { target, ...NOT_RUN }
          : { target, measured: `${megabytes(peak)} (worst rep), ${succeeded(result)} ok`, verdict: judge(peak / MB, limit, true, allSucceeded(result)) },
      );
    }
  }
  for (const { id, mode, floor, floorName } of modes) {
    const own = find(results, 'small', id);
    const ownRps = medianOf(own, 'rps');
    const base = medianOf(find(results, 'small', floor), 'rps');
    const tutorial = medianOf(find(results, 'small', 'tutorial'), 'rps');
    const target = `${mode}: small files ≥ 0.8× ${floorName} req/s, zero errors`;
    rows.push(
      own === undefined || ownRps === undefined || base === undefined
        ? { target, ...NOT_RUN }
        : { target, measured: `${(ownRps / base).toFixed(2)}× (${fixed(ownRps)} vs ${fixed(base)} req/s)`, verdict: judge(ownRps / base, 0.8, false, allSucceeded(own)) },
    );
    const vsTutorial = `${mode}: small files ≥ 2× tutorial proxy req/s`;
    rows.push(
      ownRps === undefined || tutorial === undefined
        ? { target: vsTutorial, ...NOT_RUN }
        : { target: vsTutorial, measured: `${(ownRps / tutorial).toFixed(2)}× (${fixed(ownRps)} vs ${fixed(tutorial)} req/s)`, verdict: judge(ownRps / tutorial, 2, false) },
    );
  }
  return rows;
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
      'repetition; memory targets are judged on the worst repetition. MB = 10⁶ bytes. Server CPU is the ' +
      'user + system time the server process used during the repetition (/proc/PID/stat). Full GCs are the mark-compact ' +
      'collections the server ran in a repetition (every server runs with `--trace-gc`; median shown). Uploads are real files ' +
      '(the sample MP4 followed by a `free` box of random bytes, an ~80 KB noise PNG) streamed by a node:http client with exact Content-Length.',
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
