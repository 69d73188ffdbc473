import type { RequestHandler } from 'express';
import { type ClientRateLimitInfo, MemoryStore, type Options, rateLimit, type Store } from 'express-rate-limit';
import type * as RateLimitRedis from 'rate-limit-redis';
import type { Config } from '../config';
import { ApiError } from '../errors';
import type { Logger } from '../ops/logger';
import type { Metrics } from '../ops/metrics';
import { PerReplicaFallback } from '../state/fallback-policy';
import { REDIS_KEY_PREFIX, type RedisConnection } from '../state/redis-connection';
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
  // Loaded only with REDIS_URL: a single replica has no use for it (bench/idle-footprint.md).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { RedisStore } = require('rate-limit-redis') as typeof RateLimitRedis;
  const shared = new RedisStore({
    prefix: RATE_LIMIT_KEY_PREFIX,
    sendCommand: (...args: string[]) => redis.sendCommand(args),
  });
  // The store loads its Lua scripts from its constructor and keeps the promises for later. With
  // Redis down at that moment they reject with nobody listening, and an unhandled rejection ends
  // the process; the store reloads them itself on the next call.
  shared.incrementScriptSha.catch(() => undefined);
  shared.getScriptSha.catch(() => undefined);
  return new SharedOrLocalStore(shared, new MemoryStore(), new PerReplicaFallback('rateLimit', () => redis.isReady, logger));
}

/** express-rate-limit's Store over the shared store and a local one, the rateLimit policy choosing per call. */
class SharedOrLocalStore implements Store {
  readonly localKeys = false;
  readonly #shared: Store;
  readonly #local: Store;
  readonly #fallback: PerReplicaFallback;

  constructor(shared: Store, local: Store, fallback: PerReplicaFallback) {
    this.#shared = shared;
    this.#local = local;
    this.#fallback = fallback;
  }

  async init(options: Options): Promise<void> {
    await this.#local.init?.(options);
    await this.#shared.init?.(options);
  }

  increment(key: string): Promise<ClientRateLimitInfo> {
    return this.#either((store) => store.increment(key));
  }

  decrement(key: string): Promise<void> {
    return this.#either((store) => store.decrement(key));
  }

  resetKey(key: string): Promise<void> {
    return this.#either((store) => store.resetKey(key));
  }

  #either<T>(call: (store: Store) => Promise<T> | T): Promise<T> {
    return this.#fallback.run(
      () => Promise.resolve(call(this.#shared)),
      () => Promise.resolve(call(this.#local)),
    );
  }
}
