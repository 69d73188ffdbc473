import { withTimeout } from '../../src/with-timeout';
import { OUTSIDE_FILE_BYTES_BUDGET } from '../../src/intake/multipart/form-limits';
import { fixture, paddedFile } from '../support/fixtures';
import { singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, type RawResponse } from '../support/raw-http';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'a');
/** The test gives up sending here: far past the budget, far short of what an attacker would send. */
const SEND_AT_MOST = 64 * MIB;
const mp4 = fixture('sample.mp4');
const BOUNDARY = 'xX-boundary-Xx';
const CONTENT_TYPE = `multipart/form-data; boundary=${BOUNDARY}`;

/**
 * Sends `head`, then filler chunk after chunk (chunked, no Content-Length) until the proxy answers,
 * never ending the body; resolves with the answer and how much was sent before it came.
 */
async function sendUntilAnswered(harness: Harness, head: Buffer): Promise<{ answer: RawResponse; sent: number }> {
  const { req, response } = openPost(harness.uploadUrl, { 'Content-Type': CONTENT_TYPE, 'Transfer-Encoding': 'chunked' });
  let answered = false;
  let sent = 0;
  void response.then(
    () => (answered = true),
    () => (answered = true),
  );
  req.write(head);
  try {
    while (!answered && sent < SEND_AT_MOST && !req.destroyed) {
      sent += CHUNK.length;
      if (!req.write(CHUNK)) {
        await new Promise<void>((resolve) => {
          req.once('drain', resolve);
          req.once('close', resolve);
          void response.finally(resolve);
        });
      }
    }
    return { answer: await withTimeout(response, 5_000, `no answer after ${sent} bytes`), sent };
  } finally {
    req.destroy();
  }
}

function codeOf(answer: RawResponse): string {
  return (answer.json as { error: { code: string } }).error.code;
}

describe.each(['buffered', 'streaming'] as const)('a form whose bytes outside a file part never end (%s)', (mode) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_MODE: mode, MAX_VIDEO_BYTES: String(8 * MIB) });
  });
  afterAll(() => harness.close());

  it('a text field whose value never ends is refused 400 MISSING_FILE once past the budget', async () => {
    const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\n`);
    const { answer, sent } = await sendUntilAnswered(harness, head);
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe('MISSING_FILE');
    expect(sent).toBeLessThan(OUTSIDE_FILE_BYTES_BUDGET + 4 * MIB);
    expect(harness.standIn.received).toEqual([]);
  });

  it('a preamble that never reaches a boundary is refused 400 MISSING_FILE once past the budget', async () => {
    const { answer, sent } = await sendUntilAnswered(harness, Buffer.from('preamble: '));
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe('MISSING_FILE');
    expect(sent).toBeLessThan(OUTSIDE_FILE_BYTES_BUDGET + 4 * MIB);
  });

  it('an epilogue that never ends after a valid file is refused 400 MALFORMED_MULTIPART, leaving no spool', async () => {
    const framing = singleFileFraming('a.mp4', 'video/mp4', BOUNDARY);
    const head = Buffer.concat([framing.head, paddedFile(mp4, 2 * MIB), framing.tail]);
    const { answer } = await sendUntilAnswered(harness, head);
    expect(answer.status).toBe(400);
    expect(codeOf(answer)).toBe('MALFORMED_MULTIPART');
    await harness.server.deps.gate.idle();
    // Removed as the refusal goes out, not when the lingering drain gives up (5 s).
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0, 2_000);
    expect(harness.standIn.received.filter((upload) => upload.complete)).toEqual([]);
  });

  it('still takes a form with a few small fields before and after its file', async () => {
    const field = (name: string): string => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${'v'.repeat(1000)}\r\n`;
    const framing = singleFileFraming('a.mp4', 'video/mp4', BOUNDARY);
    const body = Buffer.concat([
      Buffer.from(field('one') + field('two') + field('three')),
      framing.head,
      paddedFile(mp4, 2 * MIB),
      Buffer.from(`\r\n${field('four').replace(/\r\n$/, '')}\r\n--${BOUNDARY}--\r\n`),
    ]);
    const { req, response } = openPost(harness.uploadUrl, { 'Content-Type': CONTENT_TYPE, 'Transfer-Encoding': 'chunked' });
    req.end(body);
    const answer = await withTimeout(response, 5_000, 'no answer');
    expect(answer.status).toBe(201);
  });
});
