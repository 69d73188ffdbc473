import type { Config, Environment } from '../config';

/**
 * What `npm run dev` sets differently from production when the environment (or .env) leaves a variable
 * unset. Every variable set explicitly still wins.
 */
export const DEV_API_KEY = 'dev-key-not-a-real-heygen-key';
export const DEFAULT_DEMO_PORT = 3001;
/**
 * Production's 30 uploads a minute is a budget for one end user; a developer trying the demo page
 * (every retry, every file dropped twice) reaches it in minutes and then sees only "Too many
 * uploads". A thousand is more than a person clicks, and still a limit, so the demo shows the same
 * RateLimit headers and the 429 path stays reachable (RATE_LIMIT_MAX=2 npm run dev shows it).
 */
export const DEV_RATE_LIMIT_MAX = 1000;

/** The launcher's defaults for loadConfig: a stand-in key, localhost, the demo page's origin, the relaxed limit. */
export function devDefaults(demoPort: number): Environment {
  // The demo page is another origin (another port), so the proxy must list it; browsers send
  // "localhost" exactly as typed, and the origin check compares strings, so 127.0.0.1 would not match.
  return {
    HEYGEN_API_KEY: DEV_API_KEY,
    PORT: '3000',
    HOST: 'localhost',
    LOG_LEVEL: 'info',
    ALLOWED_ORIGINS: `http://localhost:${demoPort}`,
    RATE_LIMIT_MAX: String(DEV_RATE_LIMIT_MAX),
  };
}

/** DEMO_PORT, the demo page's port (not a proxy setting, so not part of Config). */
export function demoPortOf(environment: Environment): number {
  const written = environment.DEMO_PORT || String(DEFAULT_DEMO_PORT);
  const port = Number(written);
  if (!/^\d+$/.test(written) || port < 1 || port > 65535) throw new Error('DEMO_PORT must be a port number (1-65535)');
  return port;
}

/** The start-up line about the rate limit: whether the dev relaxation applies, and how to change it. */
export function rateLimitNote(config: Config, environment: Environment): string {
  const perWindow = `${config.rateLimitMax} uploads per client per ${config.rateLimitWindowMs / 1000} s`;
  return environment.RATE_LIMIT_MAX
    ? `rate limit: ${perWindow} (RATE_LIMIT_MAX)`
    : `rate limit: ${perWindow}, relaxed for npm run dev (production's default is 30 a minute); RATE_LIMIT_MAX sets it`;
}
