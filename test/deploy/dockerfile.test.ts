import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './support/k8s';

// Static checks of the Dockerfile and .dockerignore. scripts/container-smoke.sh builds and runs the
// image for real (in .ci/run); these catch a regression in `npm test` without a container engine.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}
interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

function parseDockerfile(text: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of logical) {
    const match = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { keyword: match[1]!.toUpperCase(), args: match[2]! };
    if (instruction.keyword === 'FROM') {
      const [from, as, name] = instruction.args.split(/\s+/);
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const runtime = dockerfile.stages.at(-1)!;
const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** A stage's base image, following FROM <stage> and ${ARG} defaults back to the registry image. */
function baseImageOf(stage: Stage): string {
  const fromArg = /^\$\{?(\w+)\}?$/.exec(stage.from);
  if (fromArg) {
    const declared = dockerfile.globalArgs.find((i) => i.keyword === 'ARG' && i.args.startsWith(`${fromArg[1]}=`));
    return declared!.args.split('=')[1]!;
  }
  const parent = dockerfile.stages.find((s) => s.name === stage.from);
  return parent ? baseImageOf(parent) : stage.from;
}

describe('Dockerfile', () => {
  it('builds in stages on node:24-bookworm-slim', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of dockerfile.stages) expect(baseImageOf(stage)).toBe('node:24-bookworm-slim');
  });

  it('compiles with dev dependencies in a build stage, and ships only production dependencies', () => {
    const build = dockerfile.stages.find((s) => args(s, 'RUN').some((run) => run.includes('npm run build')))!;
    expect(build).not.toBe(runtime);
    expect(args(build, 'RUN').join(' ')).not.toContain('--omit=dev');
    // The runtime stage installs nothing itself: it copies node_modules from a stage that omitted dev.
    expect(args(runtime, 'RUN')).toEqual([]);
    const copiedModules = args(runtime, 'COPY').find((c) => c.includes('node_modules'))!;
    const source = /--from=(\S+)/.exec(copiedModules)![1]!;
    const depsStage = dockerfile.stages.find((s) => s.name === source)!;
    expect(args(depsStage, 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(args(depsStage, 'RUN').join(' ')).not.toMatch(/npm (ci|install)(?![^|&]*--omit=dev)/);
  });

  it('runs as a numeric non-root user, so runAsNonRoot can verify it', () => {
    const [user] = args(runtime, 'USER');
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user!.split(':')[0])).toBeGreaterThan(0);
  });

  it('checks health on /healthz with node itself (slim images have no curl)', () => {
    const [healthcheck] = args(runtime, 'HEALTHCHECK');
    expect(healthcheck).toMatch(/CMD \["node", "-e", ".*\/healthz/);
    expect(healthcheck).not.toMatch(/curl|wget/);
  });

  it('starts node directly as PID 1 (exec form), so SIGTERM reaches the service', () => {
    const cmd = args(runtime, 'CMD');
    expect(cmd).toHaveLength(1);
    expect(JSON.parse(cmd[0]!)).toEqual(expect.arrayContaining(['node', 'dist/server.js']));
    expect(args(runtime, 'ENTRYPOINT')).toEqual([]);
  });

  it('runs the service exactly as `npm start` does (the command the benchmark measures)', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
    const [cmd] = args(runtime, 'CMD');
    expect(JSON.parse(cmd!)).toEqual(manifest.scripts.start.split(' '));
  });

  it('puts no secret into any stage: no ENV or ARG carries a key, token or password', () => {
    for (const stage of dockerfile.stages) {
      for (const instruction of [...args(stage, 'ENV'), ...args(stage, 'ARG')]) {
        expect(instruction).not.toMatch(/API_KEY|TOKEN|SECRET|PASSWORD|_auth/i);
      }
    }
  });
});

describe('.dockerignore', () => {
  const lines = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));

  it('excludes everything but what the build needs (allow-list)', () => {
    expect(lines[0]).toBe('*');
    const allowed = lines.filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    expect(allowed.sort()).toEqual(['LICENSE', 'package-lock.json', 'package.json', 'src', 'tsconfig.build.json', 'tsconfig.json']);
  });
});
