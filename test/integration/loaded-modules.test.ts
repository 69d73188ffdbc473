import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * An idle replica loads only what its configuration uses (bench/idle-footprint.md has each module's
 * share). Each case builds the dependencies and the app as `npm start` does, in a process of its own
 * (a test process has loaded everything already), runs `then` (JavaScript, with `deps` in scope) and
 * answers which of the watched modules are loaded.
 */
const WATCHED = {
  tus: '/node_modules/@tus/server/',
  tusIntake: '/src/intake/resumable/resumable-intake.ts',
  v1: '/src/heygen/v1/v1-upstream.ts',
  v3: '/src/heygen/v3/v3-upstream.ts',
  redis: '/node_modules/redis/',
  rateLimitRedis: '/node_modules/rate-limit-redis/',
  jwt: '/node_modules/jsonwebtoken/',
  openapi: '/src/http/openapi.json',
};
type Watched = keyof typeof WATCHED;

async function loadedAfterStart(env: Record<string, string>, then = ''): Promise<Watched[]> {
  const script = `
    const { loadConfig } = require('./src/config');
    const { createDependencies } = require('./src/dependencies');
    const { createApp } = require('./src/app');
    (async () => {
      const config = loadConfig(${JSON.stringify({ HEYGEN_API_KEY: 'test-key', ...env })});
      const deps = createDependencies(config);
      await deps.start();
      createApp(config, deps);
      ${then}
      const watched = ${JSON.stringify(WATCHED)};
      const files = Object.keys(require.cache);
      process.stdout.write(JSON.stringify(Object.keys(watched).filter((name) => files.some((file) => file.includes(watched[name])))));
      await deps.close();
    })().catch((error) => { console.error(error); process.exit(1); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let errors = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`the process failed (${code}): ${errors}`);
  return (JSON.parse(output) as Watched[]).sort();
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'loaded-modules-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('what an idle replica loads', () => {
  it('under v3 with the defaults: the v3 adapter only; no tus, v1 adapter, Redis client, token library or OpenAPI document', async () => {
    const empty = await mkdtemp(join(dir, 'resumable-'));
    expect(await loadedAfterStart({ RESUMABLE_DIR: empty })).toEqual(['v3']);
  });

  it('under v1: the v1 adapter, not the v3 one', async () => {
    const empty = await mkdtemp(join(dir, 'resumable-'));
    expect(await loadedAfterStart({ RESUMABLE_DIR: empty, HEYGEN_API: 'v1' })).toEqual(['v1']);
  });

  it('builds the tus intake on its first use', async () => {
    const empty = await mkdtemp(join(dir, 'resumable-'));
    expect(await loadedAfterStart({ RESUMABLE_DIR: empty }, "await deps.resumable.status('0123456789abcdef0123456789abcdef');")).toEqual(['tus', 'tusIntake', 'v3']);
  });

  it('builds it at start when the store already holds uploads (they count against the disk budget and expire)', async () => {
    const stored = await mkdtemp(join(dir, 'resumable-'));
    await writeFile(join(stored, '0123456789abcdef0123456789abcdef.json'), JSON.stringify({ id: '0123456789abcdef0123456789abcdef', size: 10, offset: 0, metadata: {} }));
    expect(await loadedAfterStart({ RESUMABLE_DIR: stored })).toEqual(['tus', 'tusIntake', 'v3']);
  });

  it('does not build it at start for a store that holds only completion records (.records, from uploads long forwarded)', async () => {
    const recordsOnly = await mkdtemp(join(dir, 'resumable-'));
    await mkdir(join(recordsOnly, '.records'));
    await writeFile(join(recordsOnly, '.records', '0123456789abcdef0123456789abcdef.json'), '{}');
    expect(await loadedAfterStart({ RESUMABLE_DIR: recordsOnly })).toEqual(['v3']);
  });

  it('leaves the token library out at start even with UPLOAD_TOKEN_SECRET, and the OpenAPI document until it is asked for', async () => {
    const empty = await mkdtemp(join(dir, 'resumable-'));
    const secret = { RESUMABLE_DIR: empty, UPLOAD_TOKEN_SECRET: 'a-secret-of-at-least-thirty-two-characters' };
    expect(await loadedAfterStart(secret)).toEqual(['v3']);
    const openApi = "const { openApiHandler } = require('./src/http/openapi-route'); openApiHandler()({}, { type: () => ({ send: () => undefined }) });";
    expect(await loadedAfterStart({ RESUMABLE_DIR: empty }, openApi)).toEqual(['openapi', 'v3']);
  });
});
