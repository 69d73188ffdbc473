import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AppDependencies, createDependencies } from '../../src/dependencies';
import { loadConfig } from '../../src/config';
import { type StandInHeygen, startStandInHeygen } from '../../src/dev/stand-in-heygen';
import { createLogger } from '../../src/ops/logger';
import { type RunningServer, startServer } from '../../src/server';
import { LogCapture } from './log-capture';

/** A distinctive key, so a test can search every response and log line for it. */
export const TEST_API_KEY = `test-key-${randomBytes(12).toString('hex')}`;

export interface Harness {
  readonly url: string;
  readonly uploadUrl: string;
  readonly standIn: StandInHeygen;
  readonly logs: LogCapture;
  readonly spoolDir: string;
  readonly server: RunningServer;
  close(): Promise<void>;
}

/**
 * A real proxy on a loopback port, in front of a real stand-in upstream, with its logs captured and
 * its spool in a directory of its own. `env` overrides any variable; `overrides` swaps dependencies
 * (e.g. a Redis-backed idempotency store shared by two harnesses).
 */
export async function startHarness(
  env: Record<string, string> = {},
  overrides: Partial<Omit<AppDependencies, 'logger'>> = {},
): Promise<Harness> {
  const standIn = await startStandInHeygen({ apiKey: TEST_API_KEY });
  const spoolDir = await mkdtemp(join(tmpdir(), 'proxy-spool-'));
  const config = loadConfig({
    HEYGEN_API_KEY: TEST_API_KEY,
    HEYGEN_UPLOAD_URL: standIn.url,
    PORT: '0',
    HOST: '127.0.0.1',
    TMPDIR: spoolDir,
    LOG_LEVEL: 'debug',
    RATE_LIMIT_MAX: '100000',
    // Every test client is 127.0.0.1: suites that open many uploads at once are not testing this cap.
    MAX_UPLOADS_PER_CLIENT: '100000',
    SHUTDOWN_GRACE_MS: '0',
    ...env,
  });
  const logs = new LogCapture();
  const server = await startServer(config, createDependencies(config, { ...overrides, logger: createLogger(config.logLevel, logs) }));
  return {
    url: server.url,
    uploadUrl: `${server.url}/v1/asset`,
    standIn,
    logs,
    spoolDir,
    server,
    async close() {
      await server.shutdown();
      await standIn.close();
      await rm(spoolDir, { recursive: true, force: true });
      // Every suite that uses a harness also proves that none of its log output carries the key.
      if (logs.text.includes(TEST_API_KEY)) throw new Error('the API key appeared in the log output');
    },
  };
}
