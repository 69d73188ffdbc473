import request from 'supertest';
import { fixture } from '../support/fixtures';
import { type Harness, startHarness } from '../support/proxy-harness';

/**
 * The request headers upload widgets send by default must pass a preflight from a listed origin
 * (refusing Dropzone's X-Requested-With and Cache-Control would fail every upload), while the origin
 * allowlist stays as strict as before and an unknown header is still refused, and logged by name.
 */
const APP_ORIGIN = 'https://app.example.com';
const png = fixture('sample.png');

/** What each widget asks for in its preflight by default (the browser lower-cases the names). */
const WIDGET_PREFLIGHT_HEADERS: Record<string, string> = {
  Dropzone: 'accept,cache-control,x-requested-with',
  'Dropzone with its Accept spelled out (a non-safelisted value)': 'accept',
  'the API itself': 'authorization,content-type,idempotency-key,x-request-id',
};

let harness: Harness;
beforeAll(async () => {
  harness = await startHarness({ ALLOWED_ORIGINS: APP_ORIGIN });
});
afterAll(() => harness.close());

function preflight(headers: string, origin = APP_ORIGIN, requestId?: string) {
  const req = request(harness.url)
    .options('/v1/asset')
    .set('Origin', origin)
    .set('Access-Control-Request-Method', 'POST')
    .set('Access-Control-Request-Headers', headers);
  return requestId === undefined ? req : req.set('X-Request-Id', requestId);
}

function allowedHeaders(response: request.Response): string[] {
  return String(response.headers['access-control-allow-headers'] ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
}

describe.each(Object.entries(WIDGET_PREFLIGHT_HEADERS))('a preflight for %s', (_widget, headers) => {
  it('is answered with every requested header allowed, and cached', async () => {
    const response = await preflight(headers);
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(allowedHeaders(response)).toEqual(expect.arrayContaining(headers.split(',')));
    expect(response.headers['access-control-allow-methods']).toBe('GET,POST');
    expect(response.headers['access-control-max-age']).toBe('600');
  });
});

it("takes an upload that carries Dropzone's default headers from a listed origin", async () => {
  const response = await request(harness.url)
    .post('/v1/asset')
    .set('Origin', APP_ORIGIN)
    .set('Accept', 'application/json')
    .set('Cache-Control', 'no-cache')
    .set('X-Requested-With', 'XMLHttpRequest')
    .attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
  expect(response.status).toBe(201);
  expect(response.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
  expect(harness.standIn.received.at(-1)).toMatchObject({ complete: true, contentType: 'image/png' });
  // None of the widget's headers reaches HeyGen.
  expect(harness.standIn.received.at(-1)!.headerNames).not.toEqual(expect.arrayContaining(['x-requested-with']));
  expect(harness.standIn.received.at(-1)!.headerNames).not.toEqual(expect.arrayContaining(['cache-control']));
});

it('does not cover an unknown header, and the log line names every refused header', async () => {
  const response = await preflight('x-requested-with,x-foo,X-Bar', APP_ORIGIN, 'preflight-refused');
  // Answered the standard way: the allowed list, which leaves the browser to refuse the request.
  expect(response.status).toBe(204);
  const allowed = allowedHeaders(response);
  expect(allowed).toContain('x-requested-with');
  expect(allowed).not.toContain('x-foo');
  expect(allowed).not.toContain('x-bar');

  const line = await harness.logs.waitForEntry((entry) => entry.reqId === 'preflight-refused');
  expect(line).toMatchObject({ method: 'OPTIONS', path: '/v1/asset', status: 204, detail: 'preflight refused headers: x-foo, x-bar' });
});

it('logs no refusal for a preflight whose headers are all allowed', async () => {
  await preflight('cache-control,x-requested-with', APP_ORIGIN, 'preflight-fine');
  const line = await harness.logs.waitForEntry((entry) => entry.reqId === 'preflight-fine');
  expect(line).toMatchObject({ method: 'OPTIONS', status: 204 });
  expect(line.detail).toBeUndefined();
});

it('still refuses a foreign origin with 403 and no CORS headers, whatever headers it asks for', async () => {
  const response = await preflight('x-requested-with,cache-control,accept', 'https://evil.example');
  expect(response.status).toBe(403);
  expect(response.headers['access-control-allow-origin']).toBeUndefined();
  expect(response.headers['access-control-allow-headers']).toBeUndefined();
  expect((response.body as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');

  const before = harness.standIn.received.length;
  const upload = await request(harness.url)
    .post('/v1/asset')
    .set('Origin', 'https://evil.example')
    .set('X-Requested-With', 'XMLHttpRequest')
    .attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
  expect(upload.status).toBe(403);
  expect(upload.headers['access-control-allow-origin']).toBeUndefined();
  expect(harness.standIn.received.length).toBe(before);
});
