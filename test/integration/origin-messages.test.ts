import request from 'supertest';
import { fixture } from '../support/fixtures';
import { type V3Harness, startV3Harness } from '../support/proxy-harness';

/**
 * A refused origin reaches the page only as a network error, so the proxy's own side must
 * say what happened: the refusal's log line names the origin, a start without ALLOWED_ORIGINS warns
 * that browsers will be refused, and an origin listed with a trailing slash matches the browser's.
 */
const png = fixture('sample.png');
const UNSET_WARNING = /^ALLOWED_ORIGINS is unset: every request from a browser page .* will be refused/;

function upload(url: string, origin: string, requestId: string) {
  return request(url)
    .post('/v1/asset')
    .set('Origin', origin)
    .set('X-Request-Id', requestId)
    .attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
}

describe('with ALLOWED_ORIGINS written with a trailing slash and upper case', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness({ ALLOWED_ORIGINS: 'HTTPS://App.Example.com/' });
  });
  afterAll(() => harness?.close());

  it("takes an upload from that origin as the browser writes it", async () => {
    const response = await upload(harness.url, 'https://app.example.com', 'listed-origin');
    expect(response.status).toBe(201);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('names the refused origin, and the list it was compared with, in the log line', async () => {
    const response = await upload(harness.url, 'https://evil.example', 'foreign-origin');
    expect(response.status).toBe(403);
    const line = await harness.logs.waitForEntry((entry) => entry.reqId === 'foreign-origin');
    expect(line).toMatchObject({
      status: 403,
      outcome: 'ORIGIN_NOT_ALLOWED',
      detail: 'origin "https://evil.example" refused: not in ALLOWED_ORIGINS (https://app.example.com)',
    });
  });

  it('logs no warning about ALLOWED_ORIGINS at start', () => {
    expect(harness.logs.entries().filter((entry) => UNSET_WARNING.test(String(entry.msg)))).toEqual([]);
  });
});

describe('with ALLOWED_ORIGINS unset', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness();
  });
  afterAll(() => harness?.close());

  it('warns at start, once, that browser pages will be refused', () => {
    const warnings = harness.logs.entries().filter((entry) => UNSET_WARNING.test(String(entry.msg)));
    expect(warnings).toEqual([expect.objectContaining({ level: 'warn' })]);
  });

  it('still refuses every browser origin, and its log line says why', async () => {
    const response = await upload(harness.url, 'http://localhost:3001', 'unset-origin');
    expect(response.status).toBe(403);
    const line = await harness.logs.waitForEntry((entry) => entry.reqId === 'unset-origin');
    expect(line).toMatchObject({
      outcome: 'ORIGIN_NOT_ALLOWED',
      detail: 'origin "http://localhost:3001" refused: ALLOWED_ORIGINS is unset, so every browser origin is refused',
    });
  });

  it('still takes an upload without an Origin header (servers, curl)', async () => {
    const response = await request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'photo.png', contentType: 'image/png' });
    expect(response.status).toBe(201);
  });
});
