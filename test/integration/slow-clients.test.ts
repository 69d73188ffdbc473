import { withTimeout } from '../../src/with-timeout';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, post, type RawResponse } from '../support/raw-http';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;
const mp4 = fixture('sample.mp4');
const png = fixture('sample.png');

function codeOf(answer: RawResponse): string {
  return (answer.json as { error: { code: string } }).error.code;
}

/**
 * Opens an upload declaring `declaredBytes` of file and sends the first `firstBytes` at once (enough
 * to be spooled to disk), leaving it open; `headers` are added to the request's.
 */
function openSlowUpload(harness: Harness, headers: Record<string, string> = {}, firstBytes = 1536 * 1024, declaredBytes = 4 * MIB) {
  const framing = singleFileFraming('slow.mp4', 'video/mp4');
  const upload = openPost(harness.uploadUrl, {
    'Content-Type': framing.contentType,
    'Content-Length': String(framing.head.length + declaredBytes + framing.tail.length),
    ...headers,
  });
  upload.req.write(framing.head);
  // The start of a well-formed MP4 of the declared size: what follows lies inside its filler box,
  // so any bytes the test trickles on are still a valid file as far as the structure check goes.
  upload.req.write(paddedFile(mp4, declaredBytes).subarray(0, firstBytes));
  return upload;
}

function uploadPng(harness: Harness, headers: Record<string, string> = {}): Promise<RawResponse> {
  const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
  return withTimeout(post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType, ...headers }), 5_000, 'no answer within 5 s');
}

describe('a minimum body rate', () => {
  const WINDOW_MS = 500;
  const MIN_BYTES_PER_SECOND = 64 * 1024;
  let harness: Harness;
  beforeAll(async () => {
    // Small values so the test takes a second or two; the idle timeout is far off, so only the rate can cut.
    harness = await startHarness({
      CLIENT_MIN_BYTES_PER_SECOND: String(MIN_BYTES_PER_SECOND),
      CLIENT_MIN_RATE_WINDOW_MS: String(WINDOW_MS),
      CLIENT_IDLE_TIMEOUT_MS: '60000',
    });
  });
  afterAll(() => harness.close());

  it('cuts off a client that keeps sending, but too slowly, with 408 CLIENT_TOO_SLOW, and frees its spool and slot', async () => {
    const { req, response } = openSlowUpload(harness);
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 1);
    // A trickle well under the minimum, but never idle long enough for the idle timeout.
    const trickle = setInterval(() => req.write(Buffer.alloc(512, 1)), 100);
    try {
      const answer = await withTimeout(response, 6 * WINDOW_MS + 2_000, 'the slow client was not cut off');
      expect(answer.status).toBe(408);
      expect(codeOf(answer)).toBe('CLIENT_TOO_SLOW');
      expect(answer.headers.connection).toBe('close');
    } finally {
      clearInterval(trickle);
      req.destroy();
    }
    await harness.server.deps.gate.idle();
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
    expect(harness.standIn.received).toEqual([]);
    const line = harness.logs.entries().find((entry) => entry.outcome === 'CLIENT_TOO_SLOW');
    expect(line?.detail).toMatch(/body bytes in 500 ms, under the minimum of 32768/);
  });

  it('leaves a client that sends faster than the minimum alone', async () => {
    const form = multipartBody([{ name: 'file', filename: 'a.mp4', contentType: 'video/mp4', data: paddedFile(mp4, 4 * MIB) }]);
    const answer = await withTimeout(post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType }), 5_000, 'no answer');
    expect(answer.status).toBe(201);
  });
});

describe('a cap on uploads in progress per client', () => {
  let harness: Harness;
  const attacker = { 'X-Forwarded-For': '198.51.100.66' };
  const bystander = { 'X-Forwarded-For': '198.51.100.7' };
  beforeAll(async () => {
    // One ingress hop, so clients are told apart by X-Forwarded-For on loopback.
    harness = await startHarness({ MAX_CONCURRENT_UPLOADS: '3', MAX_UPLOADS_PER_CLIENT: '2', TRUST_PROXY: '1' });
  });
  afterAll(() => harness.close());

  it('keeps one client holding its maximum of slow uploads from blocking another client', async () => {
    const slow = [openSlowUpload(harness, attacker), openSlowUpload(harness, attacker)];
    try {
      await waitForDirectory(harness.spoolDir, (entries) => entries.length === 2);

      // The attacker's third upload would take the last slot; it is refused before its body is read.
      const thirdUpload = openSlowUpload(harness, attacker);
      slow.push(thirdUpload);
      const third = await withTimeout(thirdUpload.response, 5_000, 'no answer to the third upload');
      expect(third.status).toBe(429);
      expect(codeOf(third)).toBe('TOO_MANY_UPLOADS_IN_PROGRESS');
      expect(Number(third.headers['retry-after'])).toBeGreaterThan(0);

      // Everyone else still uploads.
      expect((await uploadPng(harness, bystander)).status).toBe(201);
    } finally {
      for (const { req } of slow) req.destroy();
    }
    // The slots are given back when the uploads end.
    await harness.server.deps.gate.idle();
    expect((await uploadPng(harness, attacker)).status).toBe(201);
  });
});

describe('a minimum body rate while the proxy itself holds the body back', () => {
  let harness: Harness;
  beforeAll(async () => {
    // Streaming: HeyGen not reading pauses the client's body (backpressure), which is not the client's fault.
    harness = await startHarness({
      UPSTREAM_MODE: 'streaming',
      UPSTREAM_TIMEOUT_MS: '1500',
      CLIENT_MIN_BYTES_PER_SECOND: String(64 * 1024),
      CLIENT_MIN_RATE_WINDOW_MS: '300',
    });
  });
  afterAll(() => harness.close());

  it('does not count the windows it paused the client against it: HeyGen stalling is a 504, not a 408', async () => {
    harness.standIn.setFault('stall-reading', 1);
    const form = multipartBody([{ name: 'file', filename: 'a.mp4', contentType: 'video/mp4', data: paddedFile(mp4, 16 * MIB) }]);
    const answer = await withTimeout(post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType }), 8_000, 'no answer');
    expect(codeOf(answer)).toBe('UPSTREAM_TIMEOUT');
    expect(answer.status).toBe(504);
  });
});
