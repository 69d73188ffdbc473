import type { RequestHandler } from 'express';
import { MemoryStore, rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { Config } from '../config';
import { ApiError } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { REDIS_KEY_PREFIX, type RedisConnection } from '../state/redis-connection';
import { FallbackRateLimitStore } from './fallback-rate-limit-store';
import { clientKeyOf } from './client-key';

const RATE_LIMIT_KEY_PREFIX = `${REDIS_KEY_PREFIX}rate-limit:`;

/**
 * RATE_LIMIT_MAX uploads per RATE_LIMIT_WINDOW_MS per client, answered with 429, the draft-8
 * RateLimit headers and Retry-After, per client as clientKeyOf names it.
 */
export function uploadRateLimit(config: Config, metrics: Metrics, logger: Logger, redis?: RedisConnection): RequestHandler {
  return rateLimit({
    windowMs: config.rateLimitWindowMs,
    limit: config.rateLimitMax,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: createStore(logger, redis),
    keyGenerator: clientKeyOf,
    handler: (_req, res, next) => {
      metrics.rateLimited.inc();
      const retryAfter = res.getHeader('Retry-After');
      next(new ApiError('RATE_LIMITED', undefined, { headers: retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) } }));
    },
  });
}

function createStore(logger: Logger, redis: RedisConnection | undefined): Store | undefined {
  if (redis === undefined) return undefined;
  const shared = new RedisStore({
    prefix: RATE_LIMIT_KEY_PREFIX,
    sendCommand: (...args: string[]) => redis.sendCommand(args),
  });
  // The store loads its Lua scripts from its constructor and keeps the promises for later. With
  // Redis down at that moment they reject with nobody listening, and an unhandled rejection ends
  // the process; the store reloads them itself on the next call.
  shared.incrementScriptSha.catch(() => undefined);
  shared.getScriptSha.catch(() => undefined);
  let lastWarning = 0;
  return new FallbackRateLimitStore(shared, new MemoryStore(), () => redis.isReady, (error) => {
    // One warning a minute is enough to see a degraded limiter in the logs.
    if (Date.now() - lastWarning < 60_000) return;
    lastWarning = Date.now();
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'rate-limit store failed; using the per-replica budget');
  });
}
