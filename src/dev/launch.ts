import { ConfigError, loadConfig, readEnvironment } from '../config';
import { PortInUseError } from '../listen';
import { startServer } from '../server';
import { startDemoServer } from './demo-server';
import { startStandInHeygen } from './stand-in-heygen';
import { startStandInHeygenV3 } from './stand-in-heygen-v3';

/**
 * `npm run dev`: the proxy on http://localhost:3000 against an embedded stand-in of HeyGen's API (v3,
 * or v1 with HEYGEN_API=v1), and the demo page on http://localhost:3001, with no configuration and no
 * HeyGen account. Any variable set in the environment still wins, except HEYGEN_API_BASE_URL and
 * HEYGEN_UPLOAD_URL, which always point at the stand-in here.
 */
const DEV_API_KEY = 'dev-key-not-a-real-heygen-key';
const DEFAULT_DEMO_PORT = '3001';

async function launch(): Promise<void> {
  const environment = readEnvironment();
  const demoPort = Number(environment.DEMO_PORT || DEFAULT_DEMO_PORT);
  if (!Number.isInteger(demoPort) || demoPort < 1 || demoPort > 65535) throw new Error('DEMO_PORT must be a port number (1-65535)');
  // The demo page is another origin (another port), so the proxy must list it; browsers send
  // "localhost" exactly as typed, and the origin check compares strings, so 127.0.0.1 would not match.
  const demoOrigin = `http://localhost:${demoPort}`;
  const defaults = { HEYGEN_API_KEY: DEV_API_KEY, PORT: '3000', HOST: 'localhost', LOG_LEVEL: 'info', ALLOWED_ORIGINS: demoOrigin };
  const first = loadConfig(environment, defaults);
  const apiKey = first.heygenApiKey.reveal();
  // The stand-in of whichever API is configured: v3 (with its object store) by default, v1 with HEYGEN_API=v1.
  const standIn = first.heygenApi === 'v1' ? await startStandInHeygen({ apiKey }) : await startStandInHeygenV3({ apiKey });
  const pointAtStandIn = first.heygenApi === 'v1' ? { HEYGEN_UPLOAD_URL: standIn.url } : { HEYGEN_API_BASE_URL: standIn.url };
  const config = loadConfig({ ...environment, ...pointAtStandIn }, defaults);
  const proxy = await startServer(config).catch(naming('PORT'));
  const proxyUrl = `http://localhost:${proxy.port}`;
  const demo = await startDemoServer({ proxyUrl, port: demoPort, host: config.host, publicHost: 'localhost' }).catch(naming('DEMO_PORT'));
  const { logger } = proxy.deps;
  logger.info({ upstream: standIn.url, heygen_api: config.heygenApi }, 'stand-in HeyGen upstream listening');
  logger.info({ allowed_origins: config.allowedOrigins ?? 'none: browser pages are refused' }, `demo page: ${demo.url}/`);
  if (config.allowedOrigins !== undefined && !config.allowedOrigins.includes(demo.url)) {
    logger.warn(`ALLOWED_ORIGINS does not list ${demo.url}: the demo page's uploads will be refused (403)`);
  }
  logger.info(`try: curl -F file=@test/fixtures/sample.png ${proxyUrl}/v1/asset`);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void demo
        .close()
        .then(() => proxy.shutdown())
        .then(() => standIn.close())
        .then(() => process.exit(0));
    });
  }
}

/** A taken port becomes a StartupProblem naming the variable that chose it. */
function naming(variable: 'PORT' | 'DEMO_PORT'): (error: unknown) => never {
  return (error) => {
    throw error instanceof PortInUseError ? new StartupProblem(error.hint(variable, 'npm run dev')) : error;
  };
}

/** A problem the person starting the launcher can fix, told in its own words, without a stack. */
class StartupProblem extends Error {}

launch().catch((error: unknown) => {
  const told = error instanceof StartupProblem || error instanceof ConfigError;
  process.stderr.write(told ? `${error.message}\n` : `npm run dev failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
