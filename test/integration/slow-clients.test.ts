import { withTimeout } from '../../src/http/with-timeout';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, post, type RawResponse } from '../support/raw-http';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;
const mp4 = fixture('sample.mp4');

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
  upload.req.write(paddedFile(mp4, firstBytes));
  return upload;
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
