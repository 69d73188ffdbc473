import { FALLBACK_POLICY } from '../../state/fallback-policy';
import { REDIS_KEY_PREFIX, type RedisConnection } from '../../state/redis-connection';
import { withTimeout } from '../../with-timeout';
import { type CompletedRecords, IDEMPOTENCY_COMPLETED_TTL_MS, type StoredResponse } from './idempotency-store';

export const IDEMPOTENCY_KEY_PREFIX = `${REDIS_KEY_PREFIX}idempotency:`;

/** How a completed record is written, so any replica reads it back. */
interface CompletedRecord {
  readonly state: 'completed';
  readonly response: StoredResponse;
}

/** Completed answers in Redis, shared by every replica, each expiring a day after it was written. */
export class RedisCompletedRecords implements CompletedRecords {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async get(name: string): Promise<StoredResponse | undefined> {
    const text = await this.#bounded(['GET', IDEMPOTENCY_KEY_PREFIX + name]);
    if (typeof text !== 'string') return undefined;
    const record = JSON.parse(text) as CompletedRecord;
    if (record.state !== 'completed') throw new Error('unrecognised idempotency record in Redis');
    return record.response;
  }

  async put(name: string, response: StoredResponse): Promise<void> {
    const record: CompletedRecord = { state: 'completed', response };
    await this.#bounded(['SET', IDEMPOTENCY_KEY_PREFIX + name, JSON.stringify(record), 'PX', String(IDEMPOTENCY_COMPLETED_TTL_MS)]);
  }

  async #bounded(args: string[]): Promise<unknown> {
    const { answerWithinMs } = FALLBACK_POLICY.idempotency;
    return withTimeout(this.#redis.sendCommand(args), answerWithinMs, `idempotency records did not answer within ${answerWithinMs} ms`);
  }
}
