import { CONTENDER_IDS, type ContenderId } from './contenders';
import { SCENARIO_IDS, type ScenarioId, type Sizes } from './scenarios';

export interface Options {
  readonly smoke: boolean;
  readonly reps: number;
  readonly only: readonly ScenarioId[];
  /** Which contenders run; all unless --contenders narrows them (a partial run). */
  readonly contenders: readonly ContenderId[];
  /** Where the Markdown table goes; BENCHMARKS.md only for a full run of every scenario. */
  readonly out: string | undefined;
  readonly build: boolean;
  /** Run every server under `node --cpu-prof` and summarise the profiles (bench/results/profiles/). */
  readonly profile: boolean;
  /** Sample each server's memory and split its peak by kind (bench/results/memory/). */
  readonly memoryProfile: boolean;
  /** A node binary for the servers under test, e.g. the container's Node 24; this one's when unset. */
  readonly node: string | undefined;
  /** The checkout whose dist/server.js is benchmarked; the repository itself unless --project. */
  readonly project: string | undefined;
  readonly sizes: Sizes;
}

const MIB = 1024 * 1024;

/** The sizes. With 5 repetitions a full run takes about 12 minutes on 2 cores. */
const FULL: Sizes = {
  single: 256 * MIB,
  concurrentCount: 16,
  concurrentSize: 64 * MIB,
  large: 1024 * MIB,
  smallSeconds: 6,
  smallConnections: 32,
  smallWarmRequests: 640,
  warm: 1 * MIB,
  v3Direct: 150 * MIB,
  v3DirectWarm: 32 * MIB,
  resumable: 150 * MIB,
  resumableChunk: 5 * MIB,
  storedUploads: 2000,
  settleMs: 1000,
};

/** Same shapes, tiny sizes: exercises every path of the harness in CI in under two minutes. */
const SMOKE: Sizes = {
  single: 4 * MIB,
  concurrentCount: 16,
  concurrentSize: 256 * 1024,
  large: 8 * MIB,
  smallSeconds: 1,
  smallConnections: 32,
  // Enough to see every contender answer under load; the full run's 640 only steady the JIT.
  smallWarmRequests: 96,
  warm: 256 * 1024,
  // The smallest file the project sends by direct upload is 32,000,001 bytes: 32 MiB is the tiny size here.
  v3Direct: 32 * MIB,
  v3DirectWarm: 32 * MIB,
  // Seven PATCHes (six of 5 MiB, one of 3 MiB), sent by direct upload once complete.
  resumable: 33 * MIB,
  resumableChunk: 5 * MIB,
  storedUploads: 200,
  settleMs: 300,
};

export const USAGE = `usage: npm run bench -- [--smoke] [--reps N] [--only ${SCENARIO_IDS.join(',')}] [--contenders LIST] [--out FILE] [--no-build] [--profile] [--memory-profile] [--node BIN]
  --smoke      tiny sizes, one repetition; table to bench/results/smoke.md (never BENCHMARKS.md); the sink
               also checks every direct upload's bytes against its SHA-256
  --node BIN   run the servers under test (relays, tutorial, project) on this node binary, e.g. the
               image's runtime: --node "$(npx -p node@24 which node)"; the client and the sink stay on this node
  --reps N     repetitions per scenario and contender (default 5, smoke 1)
  --only LIST  comma-separated scenarios to run; a partial run writes to bench/results/, not BENCHMARKS.md
               (v3-small, v3-direct and resumable run the project under HEYGEN_API=v3; the others under v1;
               resumable: one tus upload to /v1/uploads in 5 MiB PATCHes, project contenders only)
  --contenders LIST  comma-separated contenders (${CONTENDER_IDS.join(',')}); a partial run
  --out FILE   write the table here instead
  --no-build   do not run the project's build first (use the dist/ that is there)
  --profile    run each server under node --cpu-prof; profiles and a summary go to bench/results/profiles/
               (the profiler costs CPU: the run's numbers are then not comparable with a plain run)
  --memory-profile  each server samples its own memory every 10 ms; what its peak is made of (file-backed
               pages, V8's spaces, Buffers outside the heap) goes to bench/results/memory/summary.md
  --project DIR  benchmark the project checkout in DIR (e.g. another worktree) instead of this one`;

export function parseOptions(argv: readonly string[]): Options {
  let smoke = false;
  let reps: number | undefined;
  let only: ScenarioId[] = [...SCENARIO_IDS];
  let lineup: ContenderId[] = [...CONTENDER_IDS];
  let out: string | undefined;
  let build = true;
  let profile = false;
  let memoryProfile = false;
  let node: string | undefined;
  let project: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = (): string => {
      const next = argv[i + 1];
      if (next === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      i += 1;
      return next;
    };
    if (arg === '--smoke') smoke = true;
    else if (arg === '--no-build') build = false;
    else if (arg === '--profile') profile = true;
    else if (arg === '--memory-profile') memoryProfile = true;
    else if (arg === '--node') node = value();
    else if (arg === '--reps') {
      reps = Number(value());
      if (!Number.isInteger(reps) || reps < 1 || reps > 50) throw new Error(`--reps must be a whole number from 1 to 50\n${USAGE}`);
    } else if (arg === '--only') {
      const wanted = value().split(',');
      const unknown = wanted.filter((id) => !(SCENARIO_IDS as readonly string[]).includes(id));
      if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
      only = SCENARIO_IDS.filter((id) => wanted.includes(id));
    } else if (arg === '--contenders') {
      const wanted = value().split(',');
      const unknown = wanted.filter((id) => !(CONTENDER_IDS as readonly string[]).includes(id));
      if (unknown.length > 0) throw new Error(`unknown contender ${unknown.join(', ')}\n${USAGE}`);
      lineup = CONTENDER_IDS.filter((id) => wanted.includes(id));
    } else if (arg === '--out') out = value();
    else if (arg === '--project') project = value();
    else if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    else throw new Error(`unknown option ${arg}\n${USAGE}`);
  }
  return { smoke, reps: reps ?? (smoke ? 1 : 5), only, contenders: lineup, out, build, profile, memoryProfile, node, project, sizes: smoke ? SMOKE : FULL };
}
