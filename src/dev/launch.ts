import { loadConfig } from '../config';
import { startServer } from '../server';
import { startStandInHeygen } from './stand-in-heygen';

/**
 * `npm run dev`: the proxy on http://localhost:3000 against an embedded stand-in of HeyGen's endpoint,
 * with no configuration and no HeyGen account. Any variable set in the environment still wins,
 * except HEYGEN_UPLOAD_URL, which always points at the stand-in here.
 */
const DEV_API_KEY = 'dev-key-not-a-real-heygen-key';

async function launch(): Promise<void> {
  const defaults = { HEYGEN_API_KEY: DEV_API_KEY, PORT: '3000', HOST: 'localhost', LOG_LEVEL: 'info' };
  const apiKey = loadConfig(undefined, defaults).heygenApiKey.reveal();
  const standIn = await startStandInHeygen({ apiKey });
  const config = loadConfig({ ...process.env, HEYGEN_UPLOAD_URL: standIn.url }, defaults);
  const proxy = await startServer(config);
  const { logger } = proxy.deps;
  logger.info({ upstream: standIn.url }, 'stand-in HeyGen upstream listening');
  logger.info(`try: curl -F file=@../shared/fixtures/sample.png ${proxy.url.replace('127.0.0.1', 'localhost')}/v1/asset`);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void proxy
        .shutdown()
        .then(() => standIn.close())
        .then(() => process.exit(0));
    });
  }
}

launch().catch((error: unknown) => {
  process.stderr.write(`npm run dev failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
