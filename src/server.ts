// First: the young generation is held at its starting size while the modules below load.
import './ops/start-up-young-generation';
import http from 'node:http';
import { createApp } from './app';
import { type Config, ConfigError, loadConfig, readEnvironment } from './config';
import { type AppDependencies, createDependencies } from './dependencies';
import { listen, PortInUseError } from './listen';
import { answerClientError } from './http/client-error-answer';

/**
 * Node enforces HEADERS_TIMEOUT_MS and REQUEST_TIMEOUT_MS only when it sweeps its connections, every
 * 30 s by default, so a 15 s header timeout fired at about 30 s. Sweeping this many times per the
 * shorter timeout makes each fire within a tenth of its value late; the sweep walks a list kept in
 * C++, so even every second or so it costs next to nothing. Never more often than the floor.
 */
const TIMEOUT_SWEEPS_PER_PERIOD = 10;
const MIN_TIMEOUT_SWEEP_MS = 10;

/** Above the idle timeouts of the proxies in front (they keep upstream connections for 60 s), so they, not we, close idle ones. */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly deps: AppDependencies;
  /** Stop taking uploads, let those in flight finish within the grace period, then close everything. */
  shutdown(): Promise<void>;
}

export async function startServer(config: Config, deps: AppDependencies = createDependencies(config)): Promise<RunningServer> {
  await deps.start();
  const app = createApp(config, deps);
  const server = http.createServer({ connectionsCheckingInterval: timeoutSweepInterval(config) }, app);
  server.on('clientError', answerClientError(deps.logger, deps.metrics));
  // With a 'checkContinue' listener Node no longer answers `Expect: 100-continue` with 100 at once:
  // the app sends it once the header checks pass (http/expect-continue.ts), or refuses instead.
  server.on('checkContinue', app);
  server.headersTimeout = config.headersTimeoutMs;
  server.requestTimeout = config.requestTimeoutMs;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;

  const { port, host } = await listen(server, config.port, config.host);
  warnAboutOrigins(config, deps);

  let shuttingDown: Promise<void> | undefined;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      deps.readiness.beginShutdown();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const graceOver = new Promise<'grace over'>((resolve) => setTimeout(() => resolve('grace over'), config.shutdownGraceMs).unref());
      const outcome = await Promise.race([deps.gate.idle().then(() => 'drained' as const), graceOver]);
      if (outcome === 'grace over') deps.logger.warn({ in_flight: deps.gate.active }, 'shutdown grace over; closing remaining uploads');
      server.closeAllConnections();
      await closed;
      await deps.close();
    })();
    return shuttingDown;
  };

  return { url: `http://${host}:${port}`, port, deps, shutdown };
}

/**
 * ALLOWED_ORIGINS unset is a safe default (no browser page may upload; servers and curl still can),
 * but the page's developer sees only a network error, so the start says it once where operators look.
 */
function warnAboutOrigins(config: Config, deps: AppDependencies): void {
  if (config.allowedOrigins !== undefined) return;
  deps.logger.warn(
    'ALLOWED_ORIGINS is unset: every request from a browser page (any request with an Origin header) will be refused with 403 ORIGIN_NOT_ALLOWED; list the pages that upload, e.g. ALLOWED_ORIGINS=https://app.example.com',
  );
}

/** How often Node sweeps its connections for header and request timeouts (see TIMEOUT_SWEEPS_PER_PERIOD). */
function timeoutSweepInterval(config: Config): number {
  const shortest = Math.min(config.headersTimeoutMs, config.requestTimeoutMs > 0 ? config.requestTimeoutMs : Infinity);
  return Math.max(MIN_TIMEOUT_SWEEP_MS, Math.floor(shortest / TIMEOUT_SWEEPS_PER_PERIOD));
}

/** Process entry: read the config, listen, and shut down gracefully on SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(readEnvironment());
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  let running: RunningServer;
  try {
    running = await startServer(config);
  } catch (error) {
    if (error instanceof PortInUseError) {
      process.stderr.write(`${error.hint('PORT', 'npm start')}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { logger } = running.deps;
  logger.info({ url: running.url, mode: config.upstreamMode }, 'heygen upload proxy listening');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down');
      running.shutdown().then(
        () => {
          logger.info('shutdown complete');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`heygen-upload-proxy failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
