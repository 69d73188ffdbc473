import { ERROR_CATALOGUE } from '../../src/errors';
import { type Harness, startHarness } from '../support/proxy-harness';
import { type RawSocketAnswer, rawExchange } from '../support/raw-http';

/** Small, so the test waits half a second rather than Node's default sweep of 30 s. */
const HEADERS_TIMEOUT_MS = 500;

function expectCatalogueJson(answer: RawSocketAnswer, code: keyof typeof ERROR_CATALOGUE): void {
  expect(answer.status).toBe(ERROR_CATALOGUE[code].status);
  expect(answer.headers['content-type']).toMatch(/^application\/json/);
  expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.body));
  expect(answer.headers.connection).toBe('close');
  const body = JSON.parse(answer.body) as { error: { code: string; message: string; request_id: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.request_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(answer.headers['x-request-id']).toBe(body.error.request_id);
}

describe("Node's own parser errors and timeouts", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS), LOG_LEVEL: 'info' });
  });
  afterAll(() => harness.close());

  it('answers a malformed request with the catalogue JSON 400 BAD_REQUEST', async () => {
    const answer = await rawExchange(harness.url, 'NOT A REQUEST\r\n\r\n');
    expectCatalogueJson(answer, 'BAD_REQUEST');
  });

  it('answers a request with a broken header line with 400 BAD_REQUEST', async () => {
    const answer = await rawExchange(harness.url, 'POST /v1/asset HTTP/1.1\r\nHost: x\r\nBroken header without colon\r\n\r\n');
    expectCatalogueJson(answer, 'BAD_REQUEST');
  });

  it('answers oversized headers with the catalogue JSON 431 HEADERS_TOO_LARGE', async () => {
    const answer = await rawExchange(harness.url, `POST /v1/asset HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expectCatalogueJson(answer, 'HEADERS_TOO_LARGE');
  });

  it('answers headers that never finish with the catalogue JSON 408 CLIENT_TIMEOUT', async () => {
    const answer = await rawExchange(harness.url, 'POST /v1/asset HTTP/1.1\r\nHost: x\r\n');
    expectCatalogueJson(answer, 'CLIENT_TIMEOUT');
  });

  it('logs each answer with its request id and code, never the request bytes', async () => {
    const answer = await rawExchange(harness.url, 'NOT A REQUEST\r\nX-Secret: do-not-log-me\r\n\r\n');
    const { request_id: requestId } = (JSON.parse(answer.body) as { error: { request_id: string } }).error;
    const line = harness.logs.entries().find((entry) => entry.reqId === requestId);
    expect(line).toMatchObject({ status: 400, outcome: 'BAD_REQUEST' });
    expect(harness.logs.text).not.toContain('do-not-log-me');
  });
});
