import { createHash } from 'node:crypto';

/**
 * One fixed-length name per (client, key) pair. Hashing keeps client addresses and token subjects out
 * of the store's key space (and its KEYS/MONITOR output), and the NUL separator keeps ("a:b", "c")
 * and ("a", "b:c") apart.
 */
export function recordKey(clientKey: string, idempotencyKey: string): string {
  return createHash('sha256').update(clientKey).update('\0').update(idempotencyKey).digest('hex');
}
