import type { RequestHandler } from 'express';
import type { Config } from '../config';
import type { Readiness } from '../ops/readiness';
import { clientIdleTimeout } from './client-idle-timeout';
import { clientMinRate } from './client-min-rate';
import { clientUploadCap } from './client-uploads/client-upload-cap';
import type { UploadLeaseStore } from './client-uploads/upload-lease-store';
import type { ConcurrencyGate } from './concurrency-gate';
import { sendContinue } from './expect-continue';
import { requireUploadToken } from './require-upload-token';
import { shutdownGate } from './shutdown-gate';

export interface UploadEdgeParts {
  readonly readiness: Readiness;
  readonly gate: ConcurrencyGate;
  readonly uploadLeases: UploadLeaseStore;
  /** One limiter for every route: a client has one budget of uploads, however it sends them. */
  readonly rateLimit: RequestHandler;
}

/** What differs between the routes that take upload bytes; everything else is the one chain. */
export interface UploadRoute {
  /**
   * True for a request that starts an upload (POST /v1/asset, a tus creation): it counts against the
   * rate limit. A tus PATCH carries more bytes of an upload already counted, and does not.
   */
  readonly startsUpload: boolean;
  /** The route's answers that need only the headers (not multipart; a declared length too large ...), before `100 Continue`. */
  readonly precheck: readonly RequestHandler[];
}

/**
 * The one chain every request that carries upload bytes passes, in this order: shutdown, upload
 * token, rate limit (uploads, not chunks), the client's cap of uploads in progress, the replica's
 * concurrency gate, the route's header checks, then `100 Continue` (only now, so a refused client
 * sends nothing), the idle timeout and the minimum body rate. The gate's slot and the client's lease
 * are held until the response has closed and the route's own work has settled
 * (RequestContext.uploadSettled), so a forward to HeyGen whose client hung up still holds them and
 * graceful shutdown waits for it. Origin/CORS, the request log and the route's metrics are mounted on
 * the paths in front of this chain (app.ts), since they also answer requests that carry no bytes.
 */
export function createUploadEdge(config: Config, parts: UploadEdgeParts): (route: UploadRoute) => RequestHandler[] {
  const token: RequestHandler[] = config.uploadTokenSecret ? [requireUploadToken(config.uploadTokenSecret)] : [];
  const shutdown = shutdownGate(parts.readiness);
  const cap = clientUploadCap(config.maxUploadsPerClient, parts.uploadLeases);
  const gate = parts.gate.middleware();
  const proceed = sendContinue();
  const idle = clientIdleTimeout(config.clientIdleTimeoutMs);
  const minRate = clientMinRate(config.clientMinBytesPerSecond, config.clientMinRateWindowMs);
  return (route) => [shutdown, ...token, ...(route.startsUpload ? [parts.rateLimit] : []), cap, gate, ...route.precheck, proceed, idle, minRate];
}
