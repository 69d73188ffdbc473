import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config';
import { type AppDependencies, createDependencies } from '../../src/dependencies';
import { type StandInHeygen, startStandInHeygen } from '../../src/dev/stand-in-heygen';
import { type StandInHeygenV3, startStandInHeygenV3 } from '../../src/dev/stand-in-heygen-v3';
import { createLogger } from '../../src/ops/logger';
import { type RunningServer, startServer } from '../../src/server';
import { LogCapture } from './log-capture';

/** A distinctive key, so a test can search every response and log line for it. */
export const TEST_API_KEY = `test-key-${randomBytes(12).toString('hex')}`;

export interface ProxyHarness<StandIn> {
  readonly url: string;
  readonly uploadUrl: string;
  readonly standIn: StandIn;
  readonly logs: LogCapture;
  readonly spoolDir: string;
  readonly server: RunningServer;
  close(): Promise<void>;
}

/** A proxy in front of the stand-in of HeyGen's legacy v1 endpoint (HEYGEN_API=v1). */
export type Harness = ProxyHarness<StandInHeygen>;
/** A proxy in front of the stand-in of HeyGen's v3 API and its object store (HEYGEN_API=v3, the default). */
export type V3Harness = ProxyHarness<StandInHeygenV3>;

type Overrides = Partial<Omit<AppDependencies, 'logger'>>;

/**
 * A real proxy on a loopback port, in front of a real stand-in upstream, with its logs captured and
 * its spool in a directory of its own. `env` overrides any variable; `overrides` swaps dependencies
 * (e.g. a Redis-backed idempotency store shared by two harnesses).
 */
export async function startHarness(env: Record<string, string> = {}, overrides: Overrides = {}): Promise<Harness> {
  const standIn = await startStandInHeygen({ apiKey: TEST_API_KEY });
  return startProxy(standIn, { HEYGEN_API: 'v1', HEYGEN_UPLOAD_URL: standIn.url, ...env }, overrides);
}

export async function startV3Harness(
  env: Record<string, string> = {},
  overrides: Overrides = {},
  standInOptions: { maxDirectUploadBytes?: number } = {},
): Promise<V3Harness> {
  const standIn = await startStandInHeygenV3({ apiKey: TEST_API_KEY, ...standInOptions });
  return startProxy(standIn, { HEYGEN_API: 'v3', HEYGEN_API_BASE_URL: standIn.url, ...env }, overrides);
}

/** Another proxy in front of a v3 stand-in that outlives it (closing the proxy leaves the stand-in running). */
export function startV3ProxyFor(standIn: StandInHeygenV3, env: Record<string, string> = {}, overrides: Overrides = {}): Promise<V3Harness> {
  const borrowed = { ...standIn, close: () => Promise.resolve() };
  return startProxy<StandInHeygenV3>(borrowed, { HEYGEN_API: 'v3', HEYGEN_API_BASE_URL: standIn.url, ...env }, overrides);
}

/** Either upstream, for suites that run against both. */
export function startHarnessFor(api: 'v1' | 'v3', env: Record<string, string> = {}, overrides: Overrides = {}): Promise<Harness | V3Harness> {
  return api === 'v1' ? startHarness(env, overrides) : startV3Harness(env, overrides);
}

async function startProxy<StandIn extends { close(): Promise<void> }>(
  standIn: StandIn,
  env: Record<string, string>,
  overrides: Overrides,
): Promise<ProxyHarness<StandIn>> {
  const spoolDir = await mkdtemp(join(tmpdir(), 'proxy-spool-'));
  const config = loadConfig({
    HEYGEN_API_KEY: TEST_API_KEY,
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
