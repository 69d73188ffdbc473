// First: the young generation is held at its starting size while the modules below load (as in server.ts).
import '../ops/start-up-young-generation';
import { ConfigError, loadConfig, readEnvironment } from '../config';
import { PortInUseError } from '../listen';
import { startServer } from '../server';
import { startDemoServer } from './demo-server';
import { demoPortOf, devDefaults, rateLimitNote } from './dev-settings';
import { startStandInHeygen } from './stand-in-heygen';
import { startStandInHeygenV3 } from './stand-in-heygen-v3';

/**
 * `npm run dev`: the proxy on http://localhost:3000 against an embedded stand-in of HeyGen's API (v3,
 * or v1 with HEYGEN_API=v1), and the demo page on http://localhost:3001, with no configuration and no
 * HeyGen account. Any variable set in the environment or in .env still wins over the dev defaults
 * (dev-settings.ts), except HEYGEN_API_BASE_URL and HEYGEN_UPLOAD_URL, which always point at the
 * stand-in here.
 */
async function launch(): Promise<void> {
  const environment = readEnvironment();
  const demoPort = demoPortOf(environment);
  const defaults = devDefaults(demoPort);
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
  logger.info({ rate_limit_max: config.rateLimitMax, rate_limit_window_ms: config.rateLimitWindowMs }, rateLimitNote(config, environment));
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
