import net from 'node:net';
import { fixture } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { parseRawResponse, rawExchange } from '../support/raw-http';

const png = fixture('sample.png');
const MIB = 1024 * 1024;

function headerBlock(harness: Harness, contentType: string, contentLength: number, extra = ''): string {
  const { host } = new URL(harness.url);
  return (
    `POST /v1/asset HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n` +
    `Expect: 100-continue\r\n${extra}\r\n`
  );
}

/** Resolves with everything received once `done(received)` holds; fails after `timeoutMs`. */
function receiveUntil(socket: net.Socket, done: (received: string) => boolean, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const timer = setTimeout(() => reject(new Error(`timed out; received: ${received.slice(0, 200)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      if (!done(received)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve(received);
    };
    socket.on('data', onData);
  });
}

describe('Expect: 100-continue', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ MAX_IMAGE_BYTES: String(MIB), MAX_VIDEO_BYTES: String(MIB), MAX_AUDIO_BYTES: String(MIB) });
  });
  afterAll(() => harness.close());

  it('answers 100 once the header checks pass, then takes the body and answers 201', async () => {
    const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
    const { hostname, port } = new URL(harness.url);
    const socket = net.connect(Number(port), hostname);
    try {
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const continued = receiveUntil(socket, (received) => received.includes('\r\n\r\n'));
      socket.write(headerBlock(harness, form.contentType, form.body.length));
      expect(await continued).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
      const answered = receiveUntil(socket, (received) => {
        const { headers, body } = parseRawResponse(received);
        return headers['content-length'] !== undefined && Buffer.byteLength(body) >= Number(headers['content-length']);
      });
      socket.write(form.body);
      const final = parseRawResponse(await answered);
      expect(final.status).toBe(201);
      expect(harness.standIn.received).toHaveLength(1);
    } finally {
      socket.destroy();
    }
  });

  it('answers a body too large by its Content-Length with 413 instead of 100, and closes', async () => {
    const answer = await rawExchange(harness.url, headerBlock(harness, 'multipart/form-data; boundary=x', 64 * MIB));
    // Nothing of the body was sent: the client heard its refusal first, not an invitation to send.
    expect(answer.raw).not.toContain('100 Continue');
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('FILE_TOO_LARGE');
    expect(answer.headers.connection).toBe('close');
  });

  it('answers a foreign origin with 403 instead of 100', async () => {
    const answer = await rawExchange(harness.url, headerBlock(harness, 'multipart/form-data; boundary=x', 1024, 'Origin: https://evil.example\r\n'));
    expect(answer.raw).not.toContain('100 Continue');
    expect(answer.status).toBe(403);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('ORIGIN_NOT_ALLOWED');
  });

  it('answers a body that is not multipart with 400 instead of 100', async () => {
    const answer = await rawExchange(harness.url, headerBlock(harness, 'application/json', 1024));
    expect(answer.raw).not.toContain('100 Continue');
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('NOT_MULTIPART');
  });
});
