import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Upload sizes from small images to the largest videos the limits allow. */
const SIZE_BUCKETS = [16e3, 64e3, 256e3, 1e6, 4e6, 16e6, 64e6, 256e6, 1e9];
const DURATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * The service's Prometheus metrics, in a registry of their own so that every app instance (tests make
 * several in one process) counts apart.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly uploads = new Counter({
    name: 'heygen_proxy_uploads_total',
    help: 'Upload requests by outcome (the error code, or "success") and media type.',
    labelNames: ['outcome', 'media_type'] as const,
    registers: [this.registry],
  });
  readonly uploadBytes = new Histogram({
    name: 'heygen_proxy_upload_bytes',
    help: 'Size of files forwarded to HeyGen.',
    labelNames: ['media_type'] as const,
    buckets: SIZE_BUCKETS,
    registers: [this.registry],
  });
  readonly uploadDuration = new Histogram({
    name: 'heygen_proxy_upload_duration_seconds',
    help: 'Time from request to answer for upload requests.',
    labelNames: ['outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly upstreamDuration = new Histogram({
    name: 'heygen_proxy_upstream_duration_seconds',
    help: 'Time of each request to HeyGen, by outcome (success, error, timeout).',
    labelNames: ['outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'heygen_proxy_uploads_in_flight',
    help: 'Uploads being received or forwarded right now.',
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'heygen_proxy_rate_limited_total',
    help: 'Upload requests refused by the rate limiter.',
    registers: [this.registry],
  });
  readonly upstreamRefusals = new Counter({
    name: 'heygen_proxy_upstream_refusals_total',
    help: 'Uploads HeyGen refused, by reason: key_invalid, forbidden, insufficient_credit (the server\'s key or account), rate_limited, rejected_file, too_large.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'heygen_proxy_rejected_total',
    help: 'Requests refused before reaching HeyGen, by error code.',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly resumableRequests = new Counter({
    name: 'heygen_proxy_resumable_requests_total',
    help: 'Requests to the resumable (tus) endpoint by method and outcome (the error code, "success" or CLIENT_CLOSED).',
    labelNames: ['method', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
