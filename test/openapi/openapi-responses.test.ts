import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import type { Upstream } from '../../src/heygen/upstream';
import openApiDocument from '../../src/http/openapi.json';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { expectMatchesOpenApi, type ObservedResponse } from '../support/openapi';
import { type Harness, startHarness, startV3Harness, type V3Harness } from '../support/proxy-harness';
import { post, rawExchange, startPartialUpload } from '../support/raw-http';
import { nextEvent } from '../support/wait';

/**
 * Real answers, over real sockets from the proxy in front of the stand-in upstream, checked against
 * the OpenAPI document's response schemas and headers: the success of every route and every error
 * status that can be provoked from outside.
 */
const APP_ORIGIN = 'https://app.example.com';
const KIB = 1024;
const png = fixture('sample.png');
const jpg = fixture('sample.jpg');

/** Every status POST /v1/asset was seen to answer, to check at the end that none went unprovoked. */
const uploadStatuses = new Set<number>();

function check(method: string, path: string, response: ObservedResponse, status: number, code?: string): void {
  expect(response.status).toBe(status);
  if (code !== undefined) expect((response.body as { error: { code: string } }).error.code).toBe(code);
  expectMatchesOpenApi(method, path, response);
  if (method === 'POST' && path === '/v1/asset') uploadStatuses.add(status);
}

function uploadPng(harness: Harness) {
  return request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
}

describe('with an allowed origin and small image limit', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ ALLOWED_ORIGINS: APP_ORIGIN, MAX_IMAGE_BYTES: String(64 * KIB), CLIENT_IDLE_TIMEOUT_MS: '300' });
  });
  afterAll(() => harness.close());

  it('201 with the asset record (from a listed origin, with CORS)', async () => {
    const response = await uploadPng(harness).set('Origin', APP_ORIGIN);
    check('POST', '/v1/asset', response, 201);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('201 replayed for a repeated Idempotency-Key, with Idempotent-Replayed', async () => {
    await uploadPng(harness).set('Idempotency-Key', 'openapi-replay');
    const replay = await uploadPng(harness).set('Idempotency-Key', 'openapi-replay');
    check('POST', '/v1/asset', replay, 201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('422 IDEMPOTENCY_KEY_REUSED for another file under a used key', async () => {
    await uploadPng(harness).set('Idempotency-Key', 'openapi-reused');
    const reused = await request(harness.url)
      .post('/v1/asset')
      .set('Idempotency-Key', 'openapi-reused')
      .attach('file', jpg.bytes, { filename: 'photo.jpg', contentType: 'image/jpeg' });
    check('POST', '/v1/asset', reused, 422, 'IDEMPOTENCY_KEY_REUSED');
  });

  it('200 from GET /v1/limits, /openapi.json, /healthz, /readyz and /metrics', async () => {
    for (const path of ['/v1/limits', '/openapi.json', '/healthz', '/readyz', '/metrics']) {
      check('GET', path, await request(harness.url).get(path), 200);
    }
  });

  it('serves the document it is checked against, with CORS for listed origins', async () => {
    const response = await request(harness.url).get('/openapi.json').set('Origin', APP_ORIGIN);
    expect(response.body).toEqual(openApiDocument);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  });

  it('400 for each malformed form', async () => {
    const notMultipart = await request(harness.url).post('/v1/asset').send({ file: 'x' });
    check('POST', '/v1/asset', notMultipart, 400, 'NOT_MULTIPART');

    const twoFiles = multipartBody([
      { name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes },
      { name: 'file', filename: 'b.png', contentType: 'image/png', data: png.bytes },
    ]);
    const tooMany = await request(harness.url).post('/v1/asset').set('Content-Type', twoFiles.contentType).send(twoFiles.body);
    check('POST', '/v1/asset', tooMany, 400, 'TOO_MANY_FILES');

    const noFile = multipartBody([{ name: 'note', data: 'hello' }]);
    const missing = await request(harness.url).post('/v1/asset').set('Content-Type', noFile.contentType).send(noFile.body);
    check('POST', '/v1/asset', missing, 400, 'MISSING_FILE');

    check('POST', '/v1/asset', await uploadPng(harness).set('Idempotency-Key', 'not a valid key'), 400, 'INVALID_IDEMPOTENCY_KEY');
  });

  it('403 for a foreign origin, on every CORS route', async () => {
    check('POST', '/v1/asset', await uploadPng(harness).set('Origin', 'https://evil.example'), 403, 'ORIGIN_NOT_ALLOWED');
    for (const path of ['/v1/limits', '/openapi.json']) {
      check('GET', path, await request(harness.url).get(path).set('Origin', 'https://evil.example'), 403, 'ORIGIN_NOT_ALLOWED');
    }
  });

  it('404 for a path the document does not list, 405 for a method it does not', async () => {
    check('GET', '/v2/asset', await request(harness.url).get('/v2/asset'), 404, 'NOT_FOUND');
    check('GET', '/v1/asset', await request(harness.url).get('/v1/asset'), 405, 'METHOD_NOT_ALLOWED');
    check('DELETE', '/openapi.json', await request(harness.url).delete('/openapi.json'), 405, 'METHOD_NOT_ALLOWED');
  });

  it('408 when the client stalls mid-body', async () => {
    const { response } = startPartialUpload(harness.uploadUrl, {
      filename: 'photo.png',
      contentType: 'image/png',
      declaredBytes: 32 * KIB,
      firstBytes: png.bytes,
    });
    const answer = await response;
    check('POST', '/v1/asset', { status: answer.status, headers: answer.headers, body: answer.json }, 408, 'CLIENT_TIMEOUT');
  });

  it('431 for headers over Node\'s limit, answered by the server itself', async () => {
    const answer = await rawExchange(harness.url, `POST /v1/asset HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(64 * KIB)}\r\n\r\n`);
    check('POST', '/v1/asset', { status: answer.status, headers: answer.headers, body: JSON.parse(answer.body) as unknown }, 431, 'HEADERS_TOO_LARGE');
  });

  it('413 for a file over its type limit, 415 for a wrong type and for a mismatch', async () => {
    const huge = await request(harness.url)
      .post('/v1/asset')
      .attach('file', paddedFile(png, 128 * KIB), { filename: 'huge.png', contentType: 'image/png' });
    check('POST', '/v1/asset', huge, 413, 'FILE_TOO_LARGE');

    const text = await request(harness.url).post('/v1/asset').attach('file', Buffer.from('plain text\n'), { filename: 'a.txt', contentType: 'text/plain' });
    check('POST', '/v1/asset', text, 415, 'UNSUPPORTED_MEDIA_TYPE');

    const mismatch = await request(harness.url).post('/v1/asset').attach('file', jpg.bytes, { filename: 'a.png', contentType: 'image/png' });
    check('POST', '/v1/asset', mismatch, 415, 'CONTENT_MISMATCH');
  });

  it('502 when HeyGen fails', async () => {
    harness.standIn.setFault('status-500', 1);
    check('POST', '/v1/asset', await uploadPng(harness), 502, 'UPSTREAM_ERROR');
  });
});

describe('with a small concurrency cap and a short upstream timeout', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ MAX_CONCURRENT_UPLOADS: '2', UPSTREAM_TIMEOUT_MS: '500' });
  });
  afterAll(() => harness.close());

  it('409 for a key still in flight, 503 at the cap, 504 when HeyGen never answers', async () => {
    harness.standIn.setFault('hang', 2);
    const form = multipartBody([{ name: 'file', filename: 'photo.png', contentType: 'image/png', data: png.bytes }]);
    const send = (headers: Record<string, string> = {}) => {
      const arrived = nextEvent(harness.standIn.events, 'request');
      const answer = post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType, ...headers });
      return { arrived, answer };
    };
    // One keyed upload held at HeyGen: the same key again is a conflict (one slot of two is free).
    const keyed = send({ 'Idempotency-Key': 'openapi-in-flight' });
    await keyed.arrived;
    check('POST', '/v1/asset', await uploadPng(harness).set('Idempotency-Key', 'openapi-in-flight'), 409, 'IDEMPOTENCY_CONFLICT');
    // A second one held too: both slots are taken.
    const other = send();
    await other.arrived;
    const busy = await uploadPng(harness);
    check('POST', '/v1/asset', busy, 503, 'SERVER_BUSY');
    expect(busy.headers['retry-after']).toEqual(expect.stringMatching(/^\d+$/));

    for (const answer of await Promise.all([keyed.answer, other.answer])) {
      check('POST', '/v1/asset', { status: answer.status, headers: answer.headers, body: answer.json }, 504, 'UPSTREAM_TIMEOUT');
    }
  });
});

describe('with a rate limit of one upload', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ RATE_LIMIT_MAX: '1' });
  });
  afterAll(() => harness.close());

  it('429 with RateLimit, RateLimit-Policy and Retry-After', async () => {
    check('POST', '/v1/asset', await uploadPng(harness), 201);
    check('POST', '/v1/asset', await uploadPng(harness), 429, 'RATE_LIMITED');
  });
});

describe('with upload tokens on', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPLOAD_TOKEN_SECRET: 'a-test-secret-that-is-long-enough-1234' });
  });
  afterAll(() => harness.close());

  it('401 without a token', async () => {
    check('POST', '/v1/asset', await uploadPng(harness), 401, 'UNAUTHORIZED');
  });
});

describe('with an upstream adapter that breaks its contract', () => {
  let harness: Harness;
  beforeAll(async () => {
    // The port promises to reject with an UpstreamFailure only; anything else is a bug, answered 500.
    const broken: Upstream = { maxStreamedBytes: Number.POSITIVE_INFINITY, send: () => Promise.reject(new TypeError('adapter bug')), close: () => undefined };
    harness = await startHarness({}, { upstream: broken });
  });
  afterAll(() => harness.close());

  it('500 INTERNAL_ERROR', async () => {
    check('POST', '/v1/asset', await uploadPng(harness), 500, 'INTERNAL_ERROR');
  });
});

describe('while shutting down', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness();
  });
  afterAll(() => harness.close());

  it('503 from /readyz with its checks, and 503 SHUTTING_DOWN for an upload', async () => {
    harness.server.deps.readiness.beginShutdown();
    const ready = await request(harness.url).get('/readyz');
    check('GET', '/readyz', ready, 503, 'SHUTTING_DOWN');
    check('POST', '/v1/asset', await uploadPng(harness), 503, 'SHUTTING_DOWN');
  });
});

describe('in front of HeyGen v3', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness();
  });
  afterAll(() => harness.close());
  afterEach(() => harness.standIn.setFault('none'));

  it('201 with the v3 record (image_key and created_ts null), 503 UPSTREAM_BUSY, 422 UPSTREAM_REJECTED_FILE', async () => {
    const created = await request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
    check('POST', '/v1/asset', created, 201);
    harness.standIn.setFault('rate-limited', 1);
    const busy = await request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
    check('POST', '/v1/asset', busy, 503, 'UPSTREAM_BUSY');
    harness.standIn.setFault('invalid-parameter', 1);
    const refused = await request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
    check('POST', '/v1/asset', refused, 422, 'UPSTREAM_REJECTED_FILE');
  });
});

describe('resumable uploads (tus)', () => {
  let harness: V3Harness;
  const directory = mkdtempSync(join(tmpdir(), 'openapi-tus-'));
  beforeAll(async () => {
    harness = await startV3Harness({ RESUMABLE_DIR: directory });
  });
  afterAll(async () => {
    await harness.close();
    rmSync(directory, { recursive: true, force: true });
  });
  const tus = { 'Tus-Resumable': '1.0.0' };
  const metadata = `filename ${Buffer.from('photo.png').toString('base64')},filetype ${Buffer.from('image/png').toString('base64')}`;

  it('201 on creation, the record on the last PATCH and on GET, 404 UPLOAD_NOT_FOUND, 412 without Tus-Resumable', async () => {
    const created = await request(harness.url).post('/v1/uploads').set(tus).set('Upload-Length', String(png.bytes.length)).set('Upload-Metadata', metadata);
    check('POST', '/v1/uploads', created, 201);
    const location = created.headers.location as string;
    const last = await request(harness.url).patch(location).set(tus).set('Upload-Offset', '0').set('Content-Type', 'application/offset+octet-stream').send(png.bytes);
    check('PATCH', '/v1/uploads/{id}', last, 200);
    check('GET', '/v1/uploads/{id}', await request(harness.url).get(location), 200);
    check('GET', '/v1/uploads/{id}', await request(harness.url).get('/v1/uploads/no-such-upload'), 404, 'UPLOAD_NOT_FOUND');
    check('POST', '/v1/uploads', await request(harness.url).post('/v1/uploads').set('Upload-Length', '10'), 412, 'TUS_RESUMABLE_REQUIRED');
  });
});

it('provoked every status the document lists for POST /v1/asset', () => {
  const listed = Object.keys(openApiDocument.paths['/v1/asset'].post.responses).map(Number);
  expect([...uploadStatuses].sort()).toEqual(listed.sort());
});

it('the checker itself refuses answers the document does not promise', () => {
  const headers = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1' };
  const record = { id: 'a', file_type: 'image', url: 'https://x.example/a', image_key: null, created_ts: 1, media_type: 'image/png', size_bytes: 3 };
  expect(() => expectMatchesOpenApi('POST', '/v1/asset', { status: 201, headers, body: record })).not.toThrow();
  const withoutSize: Partial<typeof record> = { ...record };
  delete withoutSize.size_bytes;
  expect(() => expectMatchesOpenApi('POST', '/v1/asset', { status: 201, headers, body: withoutSize })).toThrow(/size_bytes/);
  const envelope = (code: string) => ({ error: { code, message: 'm', request_id: 'r1' } });
  expect(() => expectMatchesOpenApi('POST', '/v1/asset', { status: 413, headers, body: envelope('EMPTY_FILE') })).toThrow(/body/);
  expect(() => expectMatchesOpenApi('POST', '/v1/asset', { status: 429, headers, body: envelope('RATE_LIMITED') })).toThrow(/RateLimit/);
  expect(() => expectMatchesOpenApi('POST', '/v1/asset', { status: 418, headers, body: envelope('BAD_REQUEST') })).toThrow(/does not list/);
  expect(() => expectMatchesOpenApi('GET', '/healthz', { status: 200, headers: { 'content-type': 'application/json' }, body: { status: 'ok' } })).toThrow(/X-Request-Id/);
});
