import { readdirSync } from 'node:fs';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import type { Upstream } from '../../src/heygen/upstream';
import { Secret } from '../../src/secret';
import { mintUploadToken } from '../../src/http/upload-token';
import { fixture, paddedFile } from '../support/fixtures';
import { type Harness, startHarness } from '../support/proxy-harness';
import { multipartBody } from '../support/multipart';
import { openPost, startPartialUpload } from '../support/raw-http';
import { nextEvent, waitForDirectory } from '../support/wait';

const png = fixture('sample.png');
const mp4 = fixture('sample.mp4');
const APP_ORIGIN = 'https://app.example.com';
const TOKEN_SECRET = 'a-test-secret-that-is-long-enough-1234';

function upload(harness: Harness) {
  return request(harness.url).post('/v1/asset');
}

function withPng<T extends { attach: (field: string, data: Buffer, options: object) => T }>(req: T): T {
  return req.attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' });
}

function errorCode(response: { body: unknown }): string {
  return (response.body as { error: { code: string } }).error.code;
}

describe('security headers', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('answers an upload without an ETag: every answer is a one-off, not worth a hash', async () => {
    const response = await withPng(upload(harness));
    expect(response.status).toBe(201);
    expect(response.headers.etag).toBeUndefined();
  });

  it('sends helmet headers and no X-Powered-By', async () => {
    const response = await request(harness.url).get('/healthz');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('keeps a well-formed X-Request-Id and replaces a malformed one', async () => {
    const kept = await request(harness.url).get('/healthz').set('X-Request-Id', 'trace-abc.123');
    expect(kept.headers['x-request-id']).toBe('trace-abc.123');
    const replaced = await request(harness.url).get('/nope').set('X-Request-Id', 'bad id with spaces');
    expect(replaced.headers['x-request-id']).not.toContain('bad');
    expect((replaced.body as { error: { request_id: string } }).error.request_id).toBe(replaced.headers['x-request-id']);
  });
});

describe('origins with ALLOWED_ORIGINS set', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ ALLOWED_ORIGINS: `${APP_ORIGIN},http://localhost:3001` });
  });
  afterAll(() => harness.close());

  it('answers a preflight from a listed origin', async () => {
    const response = await request(harness.url)
      .options('/v1/asset')
      .set('Origin', APP_ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'idempotency-key');
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(response.headers['access-control-allow-headers']).toContain('Idempotency-Key');
  });

  it('refuses a preflight and an upload from an unlisted origin, forwarding nothing', async () => {
    const preflight = await request(harness.url).options('/v1/asset').set('Origin', 'https://evil.example').set('Access-Control-Request-Method', 'POST');
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();

    const before = harness.standIn.received.length;
    const response = await withPng(upload(harness).set('Origin', 'https://evil.example'));
    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('ORIGIN_NOT_ALLOWED');
    expect(harness.standIn.received.length).toBe(before);
  });

  it('accepts an upload from a listed origin with CORS headers, and one without Origin', async () => {
    const fromApp = await withPng(upload(harness).set('Origin', APP_ORIGIN));
    expect(fromApp.status).toBe(201);
    expect(fromApp.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(fromApp.headers['access-control-expose-headers']).toContain('X-Request-Id');

    const serverToServer = await withPng(upload(harness));
    expect(serverToServer.status).toBe(201);
  });

  it('serves /v1/limits to listed origins', async () => {
    const response = await request(harness.url).get('/v1/limits').set('Origin', APP_ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    const body = response.body as { types: Array<{ media_type: string; max_bytes: number }> };
    expect(body.types.map((type) => type.media_type).sort()).toEqual(['audio/mpeg', 'image/jpeg', 'image/png', 'video/mp4', 'video/webm']);
    expect(body.types.every((type) => type.max_bytes === 32 * 1024 * 1024)).toBe(true);
  });
});

describe('origins with ALLOWED_ORIGINS unset', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('sends no CORS headers and refuses every browser Origin, forwarding nothing', async () => {
    const foreign = await withPng(upload(harness).set('Origin', APP_ORIGIN));
    expect(foreign.status).toBe(403);
    expect(foreign.headers['access-control-allow-origin']).toBeUndefined();

    // The service cannot know its own public origin unless told: a page on "its" host is refused too.
    const sameHost = await withPng(upload(harness).set('Origin', harness.url));
    expect(sameHost.status).toBe(403);
    expect(errorCode(sameHost)).toBe('ORIGIN_NOT_ALLOWED');
    expect(harness.standIn.received).toEqual([]);
  });

  it('refuses a DNS-rebinding page whose Origin matches the Host it sends', async () => {
    // evil.example resolved to this service: the browser sends Host and Origin both naming evil.example.
    const rebound = await withPng(upload(harness).set('Host', 'evil.example:3000').set('Origin', 'http://evil.example:3000'));
    expect(rebound.status).toBe(403);
    expect(errorCode(rebound)).toBe('ORIGIN_NOT_ALLOWED');
    const otherScheme = await withPng(upload(harness).set('Host', 'evil.example').set('Origin', 'https://evil.example'));
    expect(otherScheme.status).toBe(403);
    expect(harness.standIn.received).toEqual([]);
  });

  it('still serves requests without Origin (servers, curl)', async () => {
    expect((await withPng(upload(harness))).status).toBe(201);
  });
});

describe('rate limit', () => {
  describe('without TRUST_PROXY', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' });
    });
    afterAll(() => harness.close());

    it('answers the request after the limit with 429, RateLimit headers and Retry-After, forwarding nothing', async () => {
      for (let i = 0; i < 2; i += 1) {
        const ok = await withPng(upload(harness).set('X-Forwarded-For', `10.0.0.${i}`));
        expect(ok.status).toBe(201);
        expect(ok.headers.ratelimit).toMatch(/r=\d+/);
      }
      const before = harness.standIn.received.length;
      // A forged X-Forwarded-For must not buy a fresh budget when no proxy is trusted.
      const limited = await withPng(upload(harness).set('X-Forwarded-For', '203.0.113.99'));
      expect(limited.status).toBe(429);
      expect(errorCode(limited)).toBe('RATE_LIMITED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['ratelimit-policy']).toMatch(/q=2/);
      expect(harness.standIn.received.length).toBe(before);
    });
  });

  describe('with TRUST_PROXY=1', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({ RATE_LIMIT_MAX: '1', TRUST_PROXY: '1' });
    });
    afterAll(() => harness.close());

    it('tells clients behind the proxy apart by X-Forwarded-For', async () => {
      expect((await withPng(upload(harness).set('X-Forwarded-For', '198.51.100.1'))).status).toBe(201);
      expect((await withPng(upload(harness).set('X-Forwarded-For', '198.51.100.1'))).status).toBe(429);
      expect((await withPng(upload(harness).set('X-Forwarded-For', '198.51.100.2'))).status).toBe(201);
      const keys = harness.logs.entries().map((entry) => entry.client_key).filter(Boolean);
      expect(keys).toEqual(expect.arrayContaining(['ip:198.51.100.1', 'ip:198.51.100.2']));
    });
  });
});

describe('concurrency cap', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ MAX_CONCURRENT_UPLOADS: '1', UPSTREAM_TIMEOUT_MS: '1000' });
  });
  afterAll(() => harness.close());

  it('answers 503 with Retry-After past the cap at once, and recovers when the slot frees', async () => {
    const { req } = startPartialUpload(harness.uploadUrl, {
      filename: 'slow.mp4',
      contentType: 'video/mp4',
      declaredBytes: 1024 * 1024,
      firstBytes: paddedFile(mp4, 8 * 1024),
    });
    await new Promise<void>((resolve) => {
      const check = (): void => (harness.server.deps.gate.active === 1 ? resolve() : void setImmediate(check));
      check();
    });

    const busy = await withPng(upload(harness));
    expect(busy.status).toBe(503);
    expect(errorCode(busy)).toBe('SERVER_BUSY');
    expect(busy.headers['retry-after']).toBe('5');

    req.destroy();
    await harness.server.deps.gate.idle();
    expect((await withPng(upload(harness))).status).toBe(201);
  });

  it('keeps the slot of a client that hung up while its file was still going to HeyGen, until that upload ends', async () => {
    harness.standIn.setFault('hang', 1);
    const png = fixture('sample.png');
    const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
    const leaving = openPost(harness.uploadUrl, { 'Content-Type': form.contentType, 'Content-Length': String(form.body.length) });
    leaving.response.catch(() => undefined);
    const upstreamHasIt = nextEvent(harness.standIn.events, 'received');
    leaving.req.end(form.body);
    await upstreamHasIt;
    const closed = new Promise<void>((resolve) => leaving.req.once('close', () => resolve()));
    leaving.req.destroy();
    await closed;

    // Its upload still runs (HeyGen hangs until the upstream timeout): no second upload gets its slot.
    const busy = await withPng(upload(harness));
    expect(busy.status).toBe(503);
    expect(errorCode(busy)).toBe('SERVER_BUSY');

    await harness.server.deps.gate.idle();
    expect((await withPng(upload(harness))).status).toBe(201);
  });
});

describe('upload tokens', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPLOAD_TOKEN_SECRET: TOKEN_SECRET });
  });
  afterAll(() => harness.close());

  it('accepts a valid token and keys the rate limit by its subject', async () => {
    const token = mintUploadToken(new Secret(TOKEN_SECRET), 'user-42', 60);
    const response = await withPng(upload(harness).set('Authorization', `Bearer ${token}`));
    expect(response.status).toBe(201);
    expect(harness.logs.entries().some((entry) => entry.client_key === 'sub:user-42')).toBe(true);
    expect(harness.logs.text).not.toContain(token);
  });

  it.each([
    ['missing', undefined],
    ['forged', mintUploadToken(new Secret('another-secret-that-is-long-enough-xx'), 'user-42', 60)],
    ['expired', jwt.sign({ exp: Math.floor(Date.now() / 1000) - 10 }, TOKEN_SECRET, { algorithm: 'HS256', audience: 'heygen-upload-proxy', subject: 'user-42' })],
    ['for another audience', jwt.sign({}, TOKEN_SECRET, { algorithm: 'HS256', audience: 'someone-else', subject: 'user-42', expiresIn: 60 })],
    ['unsigned (alg none)', jwt.sign({}, '', { algorithm: 'none', audience: 'heygen-upload-proxy', subject: 'user-42', expiresIn: 60 })],
  ])('refuses a %s token with 401 and forwards nothing', async (_what, token) => {
    const before = harness.standIn.received.length;
    const req = upload(harness);
    if (token !== undefined) req.set('Authorization', `Bearer ${token}`);
    const response = await withPng(req);
    expect(response.status).toBe(401);
    expect(errorCode(response)).toBe('UNAUTHORIZED');
    expect(response.headers['www-authenticate']).toContain('Bearer');
    expect(harness.standIn.received.length).toBe(before);
  });
});

describe('timeouts', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ CLIENT_IDLE_TIMEOUT_MS: '300', UPSTREAM_TIMEOUT_MS: '300' });
  });
  afterAll(() => harness.close());

  it('cuts off a client that stalls mid-body with 408 and frees its spool', async () => {
    const { req, response } = startPartialUpload(harness.uploadUrl, {
      filename: 'stall.mp4',
      contentType: 'video/mp4',
      declaredBytes: 4 * 1024 * 1024,
      firstBytes: paddedFile(mp4, 2 * 1024 * 1024),
    });
    const answer = await response;
    expect(answer.status).toBe(408);
    expect((answer.json as { error: { code: string } }).error.code).toBe('CLIENT_TIMEOUT');
    req.destroy();
    await harness.server.deps.gate.idle();
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
    expect(harness.standIn.received).toEqual([]);
  });

  it('answers 504 when HeyGen hangs, and drops the upstream request', async () => {
    harness.standIn.setFault('hang', 1);
    const response = await withPng(upload(harness));
    expect(response.status).toBe(504);
    expect(errorCode(response)).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('observability', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ LOG_LEVEL: 'info' });
  });
  afterAll(() => harness.close());

  it('logs one line per upload with id, type, bytes, duration, outcome and client key', async () => {
    const response = await withPng(upload(harness).set('X-Request-Id', 'log-line-check'));
    expect(response.status).toBe(201);
    const lines = harness.logs.entries().filter((entry) => entry.reqId === 'log-line-check');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      path: '/v1/asset',
      status: 201,
      outcome: 'OK',
      media_type: 'image/png',
      bytes: png.bytes.length,
      client_key: expect.stringMatching(/^ip:/) as unknown,
      duration_ms: expect.any(Number) as unknown,
    });
  });

  it('exposes Prometheus metrics for uploads, bytes, durations, in-flight and rejections', async () => {
    await withPng(upload(harness));
    await upload(harness).attach('file', Buffer.from('text'), { filename: 'a.txt', contentType: 'text/plain' });
    const response = await request(harness.url).get('/metrics');
    expect(response.status).toBe(200);
    const text = response.text;
    expect(text).toMatch(/heygen_proxy_uploads_total\{outcome="success",media_type="image\/png"\} [1-9]/);
    expect(text).toMatch(/heygen_proxy_rejected_total\{code="UNSUPPORTED_MEDIA_TYPE"\} 1/);
    expect(text).toMatch(/heygen_proxy_upload_bytes_bucket\{le="16000",media_type="image\/png"\} [1-9]/);
    expect(text).toMatch(/heygen_proxy_upstream_duration_seconds_count\{outcome="success"\} [1-9]/);
    expect(text).toMatch(/heygen_proxy_uploads_in_flight 0/);
    expect(text).toContain('heygen_proxy_rate_limited_total');
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('reports healthy and ready', async () => {
    expect((await request(harness.url).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(harness.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { shutdown: 'no' } });
  });
});

describe('an unexpected failure', () => {
  let harness: Harness;
  beforeAll(async () => {
    // A client that fails the way no catalogue error does, so the error handler sees a bare Error.
    const failing: Upstream = { maxStreamedBytes: Number.POSITIVE_INFINITY, send: () => Promise.reject(new TypeError('unexpected failure in test')), close: () => undefined };
    harness = await startHarness({ LOG_LEVEL: 'info' }, { upstream: failing });
  });
  afterAll(() => harness.close());

  it('answers 500 INTERNAL_ERROR and logs one line at error level carrying the error', async () => {
    const response = await withPng(upload(harness).set('X-Request-Id', 'internal-error-check'));
    expect(response.status).toBe(500);
    expect(errorCode(response)).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(response.body)).not.toContain('unexpected failure in test');
    const lines = harness.logs.entries().filter((entry) => entry.reqId === 'internal-error-check');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      status: 500,
      outcome: 'INTERNAL_ERROR',
      msg: 'POST /v1/asset failed',
      err: expect.objectContaining({ message: 'unexpected failure in test' }) as unknown,
    });
  });
});

describe('proxy variables in the environment', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('are ignored: the upload goes to the configured HeyGen URL, not to HTTP_PROXY', async () => {
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
    // Nothing listens on port 9 (discard): an upload sent through this "proxy" would fail with 502.
    Object.assign(process.env, { HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9', NO_PROXY: '', no_proxy: '' });
    try {
      const response = await withPng(upload(harness));
      expect(response.status).toBe(201);
      expect(harness.standIn.received).toHaveLength(1);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe('many aborted uploads', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  function openDescriptors(): number {
    return readdirSync('/proc/self/fd').length;
  }

  it('leave no descriptor, socket or temp file behind', async () => {
    // One warm-up so lazily opened handles (agents, loaded modules) count in the baseline.
    expect((await withPng(upload(harness))).status).toBe(201);
    const baseline = openDescriptors();
    for (let i = 0; i < 40; i += 1) {
      const { req } = startPartialUpload(harness.uploadUrl, {
        filename: 'abort.mp4',
        contentType: 'video/mp4',
        declaredBytes: 4 * 1024 * 1024,
        firstBytes: paddedFile(mp4, 1536 * 1024),
      });
      await waitForDirectory(harness.spoolDir, (entries) => entries.length === 1);
      req.destroy();
      await harness.server.deps.gate.idle();
      await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
    }
    expect(openDescriptors()).toBeLessThanOrEqual(baseline);
    expect(harness.standIn.received).toHaveLength(1);
  });
});
