import { type Harness, startHarness } from '../support/proxy-harness';
import { rawExchange } from '../support/raw-http';

/** Small, so the test waits half a second; Node's own sweep would only notice it after 30 s. */
const HEADERS_TIMEOUT_MS = 500;

describe('HEADERS_TIMEOUT_MS', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
  });
  afterAll(() => harness.close());

  it('cuts off a client whose headers never finish close to the configured time, not at the next 30 s sweep', async () => {
    // Half a header block, then nothing: a slow-header (Slowloris) client.
    const answer = await rawExchange(harness.url, 'POST /v1/asset HTTP/1.1\r\nHost: x\r\nX-Slow: ', 5_000);
    expect(answer.status).toBe(408);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 50);
    expect(answer.elapsedMs).toBeLessThan(HEADERS_TIMEOUT_MS * 2);
  });

  it('leaves a client that sends its headers in time alone', async () => {
    const answer = await rawExchange(harness.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer.status).toBe(200);
  });
});
