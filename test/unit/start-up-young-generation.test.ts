import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * In a process of its own (the test process's young generation has long grown): the same long-lived
 * allocations, as modules make when they load, before and after the event loop's first turn. Sizes
 * are V8's young-generation capacity in bytes.
 */
function youngGenerationAcrossStartUp(hold: boolean): { before: number; duringLoad: number; afterFirstTurn: number } {
  const script = `
    const v8 = require('node:v8');
    const young = () => v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
    const before = young();
    ${hold ? "require('./src/ops/start-up-young-generation');" : ''}
    const kept = [];
    const allocateSurvivors = () => { for (let i = 0; i < 300000; i += 1) kept.push({ i, name: 'module-' + i }); };
    allocateSurvivors();
    const duringLoad = young();
    setImmediate(() => {
      allocateSurvivors();
      process.stdout.write(JSON.stringify({ before, duringLoad, afterFirstTurn: young() }));
    });`;
  // The start script's cap, so that "grown" means the same here as in production.
  const child = spawnSync(process.execPath, ['--max-semi-space-size=16', '--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  if (child.status !== 0) throw new Error(`the process failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as { before: number; duringLoad: number; afterFirstTurn: number };
}

describe("V8's young generation while the entry loads", () => {
  it('does not grow for what start-up allocates, and grows again from the first turn of the event loop', () => {
    const { before, duringLoad, afterFirstTurn } = youngGenerationAcrossStartUp(true);
    expect(duringLoad).toBe(before);
    expect(afterFirstTurn).toBeGreaterThan(duringLoad);
  });

  it('grows for the same allocations without it (what the module prevents)', () => {
    const { before, duringLoad } = youngGenerationAcrossStartUp(false);
    expect(duringLoad).toBeGreaterThan(before);
  });
});

describe('the entries', () => {
  it.each([
    ['src/server.ts (npm start, the image)', ['src', 'server.ts'], "import './ops/start-up-young-generation';"],
    ['src/dev/launch.ts (npm run dev)', ['src', 'dev', 'launch.ts'], "import '../ops/start-up-young-generation';"],
  ])('%s imports it before anything else, so the whole import graph loads under it', (_entry, file, expected) => {
    const firstImport = /^import .*$/m.exec(readFileSync(join(ROOT, ...file), 'utf8'))?.[0];
    expect(firstImport).toBe(expected);
  });
});
