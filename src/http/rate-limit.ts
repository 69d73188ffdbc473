import type { RequestHandler } from 'express';
import { MemoryStore, ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import type { Config } from '../config';
import { ApiError } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import type { RedisConnection } from '../ops/redis-connection';
import { FallbackRateLimitStore } from './fallback-rate-limit-store';
import { contextOf } from './request-context';

const REDIS_KEY_PREFIX = 'heygen-upload-proxy:rate-limit:';

/**
 * RATE_LIMIT_MAX uploads per RATE_LIMIT_WINDOW_MS per client, answered with 429, the draft-8
 * RateLimit headers and Retry-After. The client is the upload token's subject when tokens are on,
 * else its IP (an IPv6 client by its /56), where the IP is the socket's unless TRUST_PROXY names the
 * proxies whose X-Forwarded-For may be believed.
 */
export function uploadRateLimit(config: Config, metrics: Metrics, logger: Logger, redis?: RedisConnection): RequestHandler {
  return rateLimit({
    windowMs: config.rateLimitWindowMs,
    limit: config.rateLimitMax,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: createStore(logger, redis),
    keyGenerator: (req, res) => {
      const context = contextOf(res);
      const key = context.tokenSubject !== undefined ? `sub:${context.tokenSubject}` : `ip:${ipKeyGenerator(req.ip ?? '')}`;
      context.rateLimitKey = key;
      return key;
    },
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
    prefix: REDIS_KEY_PREFIX,
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
