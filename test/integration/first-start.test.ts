import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { fixture } from '../support/fixtures';
import { spawnEntry } from '../support/server-process';

/**
 * A newcomer's first hour, through the real entry points in their own processes: `npm start`'s
 * src/server.ts and `npm run dev`'s launcher read `.env` (the environment winning), a taken port is one
 * line naming the variable to change, and the launcher relaxes the rate limit and says so.
 */
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'first-start-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A port some other program holds, on the address the entry points bind (HOST=localhost). */
async function holdPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const holder: Server = createServer();
  await new Promise<void>((resolve) => holder.listen(0, 'localhost', resolve));
  const { port } = holder.address() as { port: number };
  return { port, release: () => new Promise<void>((resolve) => holder.close(() => resolve())) };
}

/** A port free right now, for DEMO_PORT (which must be fixed: the demo page's origin is derived from it). */
async function freePort(): Promise<number> {
  const held = await holdPort();
  await held.release();
  return held.port;
}

function expectOneLineNaming(output: string, variable: string, port: number, command: string): void {
  const lines = output.trim().split('\n');
  expect(lines).toEqual([
    `${variable}=${port} cannot be used: port ${port} on localhost is already in use by another program. Choose another port with ${variable}, e.g. \`${variable}=${port + 100 <= 65535 ? port + 100 : port - 100} ${command}\` (or set it in .env).`,
  ]);
  expect(output).not.toContain('EADDRINUSE');
}

describe('npm start (src/server.ts)', () => {
  it('reads the env file, with the environment winning over it', async () => {
    const ENV_FILE = join(dir, 'server.env');
    // Nothing in the environment names a key: only the file does. Its PORT is overridden by the environment's.
    await writeFile(ENV_FILE, 'HEYGEN_API_KEY=key-from-env-file\nPORT=1\nHOST=127.0.0.1\nALLOWED_ORIGINS=https://app.example.com/\n');
    const server = spawnEntry('src/server.ts', { ENV_FILE, PORT: '0' });
    try {
      const [, url] = await server.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
      const health = await request(url!).get('/healthz');
      expect(health.status).toBe(200);
      // The file's ALLOWED_ORIGINS is in force (and written the way the browser sends it).
      const limits = await request(url!).get('/v1/limits').set('Origin', 'https://app.example.com');
      expect(limits.status).toBe(200);
      expect(limits.headers['access-control-allow-origin']).toBe('https://app.example.com');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('stops at a taken port with one line naming PORT', async () => {
    const held = await holdPort();
    try {
      const { code, output } = await spawnEntry('src/server.ts', { HEYGEN_API_KEY: 'k', HOST: 'localhost', PORT: String(held.port), LOG_LEVEL: 'silent' }).exited;
      expect(code).toBe(1);
      expectOneLineNaming(output, 'PORT', held.port, 'npm start');
    } finally {
      await held.release();
    }
  });
});

describe('npm run dev (src/dev/launch.ts)', () => {
  it('stops at a taken PORT with one line naming PORT', async () => {
    const held = await holdPort();
    try {
      const { code, output } = await spawnEntry('src/dev/launch.ts', { PORT: String(held.port), DEMO_PORT: String(await freePort()), LOG_LEVEL: 'silent' }).exited;
      expect(code).toBe(1);
      expectOneLineNaming(output, 'PORT', held.port, 'npm run dev');
    } finally {
      await held.release();
    }
  });

  it('stops at a taken DEMO_PORT with one line naming DEMO_PORT', async () => {
    const held = await holdPort();
    try {
      const { code, output } = await spawnEntry('src/dev/launch.ts', { PORT: '0', DEMO_PORT: String(held.port), LOG_LEVEL: 'silent' }).exited;
      expect(code).toBe(1);
      expectOneLineNaming(output, 'DEMO_PORT', held.port, 'npm run dev');
    } finally {
      await held.release();
    }
  });

  it('relaxes the rate limit, says so at start, and the limiter enforces that number', async () => {
    const dev = spawnEntry('src/dev/launch.ts', { PORT: '0', DEMO_PORT: String(await freePort()) });
    try {
      const [, url] = await dev.waitFor(/try: curl -F file=@\S+ (http:\/\/localhost:\d+)\/v1\/asset/);
      expect(dev.output()).toContain("rate limit: 1000 uploads per client per 60 s, relaxed for npm run dev (production's default is 30 a minute); RATE_LIMIT_MAX sets it");
      const png = fixture('sample.png');
      const upload = await request(url!).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
      expect(upload.status).toBe(201);
      expect(upload.headers['ratelimit-policy']).toContain('q=1000; w=60');
    } finally {
      dev.child.kill('SIGTERM');
      await dev.exited;
    }
  });
});
