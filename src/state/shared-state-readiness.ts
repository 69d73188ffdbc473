import type { ReadinessCheck } from '../ops/readiness';
import { degradedStatus } from './fallback-policy';
import type { RedisConnection } from './redis-connection';

/**
 * Readiness tells the truth about Redis but does not fail on it: every replica shares the one Redis,
 * so failing readiness would turn a Redis outage into a full outage, while the fallback policy keeps
 * per-replica budgets in force and refuses only what must not go per-replica. The status says which.
 */
export function sharedStateReadinessCheck(client: RedisConnection): ReadinessCheck {
  return {
    name: 'shared_state',
    check: () => Promise.resolve(client.isReady ? { ok: true, status: 'redis' } : { ok: true, status: degradedStatus() }),
  };
}
