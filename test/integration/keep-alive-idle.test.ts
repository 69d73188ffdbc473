import http from 'node:http';
import { fixture } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { readResponse, type RawResponse } from '../support/raw-http';

/** Requests over one kept-alive connection, as browsers and SDKs send them. */
function request(agent: http.Agent, url: string, headers: http.OutgoingHttpHeaders, body: Buffer, end: boolean) {
  return new Promise<RawResponse>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
      readResponse(res).then(resolve, reject);
    });
    req.once('error', reject);
    if (end) req.end(body);
    else req.write(body);
  });
}

describe('the client idle timeout (CLIENT_IDLE_TIMEOUT_MS)', () => {
  let harness: Harness;
  let agent: http.Agent;
  beforeAll(async () => {
    harness = await startHarness({ CLIENT_IDLE_TIMEOUT_MS: '300' });
    agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterAll(async () => {
    agent.destroy();
    await harness.close();
  });

  it('answers 408 to a stalled upload after earlier uploads on the same connection, rather than a reset from an earlier request’s stale timer', async () => {
    const png = fixture('sample.png');
    const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
    for (let index = 0; index < 12; index += 1) {
      const response = await request(agent, harness.uploadUrl, { 'Content-Type': form.contentType, 'Content-Length': form.body.length }, form.body, true);
      expect(response.status).toBe(201);
    }
    const framing = singleFileFraming('b.png', 'image/png');
    const stalled = await request(
      agent,
      harness.uploadUrl,
      { 'Content-Type': framing.contentType, 'Content-Length': framing.head.length + png.bytes.length + framing.tail.length },
      Buffer.concat([framing.head, png.bytes.subarray(0, 100)]),
      false,
    );
    expect(stalled.status).toBe(408);
  });

  it('answers 408 to a stalled upload on a fresh connection (not a bare reset)', async () => {
    const framing = singleFileFraming('c.png', 'image/png');
    const fresh = new http.Agent({ keepAlive: false });
    try {
      const stalled = await request(
        fresh,
        harness.uploadUrl,
        { 'Content-Type': framing.contentType, 'Content-Length': framing.head.length + 5000 },
        Buffer.concat([framing.head, fixture('sample.png').bytes.subarray(0, 100)]),
        false,
      );
      expect(stalled.status).toBe(408);
      expect((stalled.json as { error: { code: string } }).error.code).toBe('CLIENT_TIMEOUT');
    } finally {
      fresh.destroy();
    }
  });
});
