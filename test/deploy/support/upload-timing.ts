import { type Config, loadConfig, MIB } from '../../../src/config';
import { largestFileBytes } from '../../../src/upload/media-types';

/**
 * The service's configuration as the pods get it: the ConfigMap's values through the service's own
 * loadConfig, so that anything the ConfigMap leaves out takes src/config.ts's default.
 */
export function configFromConfigMap(data: Readonly<Record<string, string>>): Config {
  return loadConfig({ ...data, HEYGEN_API_KEY: 'test-only-not-a-key' });
}

export interface UploadTiming {
  /** The largest file any type may be. */
  readonly largestFileBytes: number;
  /** The longest a request's body may take to arrive before the service ends it (REQUEST_TIMEOUT_MS). */
  readonly bodyMs: number;
  /** The slowest client whose largest upload still fits in one request, in bytes per second. */
  readonly slowestWholeFileBytesPerSecond: number;
  /** The longest the service may stay silent after the body is in, forwarding it to HeyGen. */
  readonly answerMs: number;
  /** The least a gateway's whole-request timeout may be so that the service ends every upload first. */
  readonly minRequestTimeoutMs: number;
}

/** PUT to HeyGen's storage at a floor of 1 MiB/s (k8s/base/httproute.yaml explains). */
const STORAGE_FLOOR_BYTES_PER_SECOND = MIB;
/** v3's retries pause 250 ms x attempt between tries, complete 500 ms x attempt: under 10 s in all. */
const RETRY_PAUSES_MS = 10_000;

/**
 * The derivation in k8s/base/httproute.yaml, from the configuration: the body phase is bounded by
 * REQUEST_TIMEOUT_MS, then the pod forwards the file before it answers. Throws where the premise does
 * not hold (REQUEST_TIMEOUT_MS off, or not the bound that binds first for the largest file).
 */
export function uploadTiming(config: Config): UploadTiming {
  if (config.requestTimeoutMs === 0) {
    throw new Error('REQUEST_TIMEOUT_MS=0 turns the service’s bound on a request body off: derive the route timeout from CLIENT_MIN_BYTES_PER_SECOND instead');
  }
  const largest = largestFileBytes(config.maxBytes);
  const slowest = largest / (config.requestTimeoutMs / 1000);
  if (config.clientMinBytesPerSecond > 0 && slowest <= config.clientMinBytesPerSecond) {
    throw new Error('the minimum client rate, not REQUEST_TIMEOUT_MS, bounds the largest upload: derive the route timeout from it');
  }
  // v1: one upstream call and one retry. v3: above its multipart cap, a direct upload: three calls,
  // the PUT of the file, and the retries' pauses.
  const v1Ms = 2 * config.upstreamTimeoutMs;
  const v3Ms = 3 * config.upstreamTimeoutMs + (largest / STORAGE_FLOOR_BYTES_PER_SECOND) * 1000 + RETRY_PAUSES_MS;
  const answerMs = config.heygenApi === 'v3' ? Math.max(v1Ms, v3Ms) : v1Ms;
  return {
    largestFileBytes: largest,
    bodyMs: config.requestTimeoutMs,
    slowestWholeFileBytesPerSecond: slowest,
    answerMs,
    minRequestTimeoutMs: config.requestTimeoutMs + answerMs,
  };
}

/** A Gateway API Duration (GEP-2257: "1h", "17m", "30s", "500ms", "1m30s") in milliseconds. */
export function gatewayDurationMs(value: unknown): number {
  if (typeof value !== 'string' || !/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(value)) throw new Error(`not a Gateway API duration: ${String(value)}`);
  const factors: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/([0-9]+)(ms|h|m|s)/g)) total += Number(amount) * factors[unit!]!;
  return total;
}

/** An nginx time ("60s", "7m", "500ms", "60": seconds without a unit) in milliseconds. */
export function nginxDurationMs(value: unknown): number {
  const match = typeof value === 'string' ? /^([0-9]+)(ms|s|m|h)?$/.exec(value) : null;
  if (!match) throw new Error(`not an nginx time: ${String(value)}`);
  const factors: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  return Number(match[1]) * factors[match[2] ?? 's']!;
}
