import request from 'supertest';
import { fixture, paddedFile } from '../support/fixtures';
import { multipartBody, singleFileFraming } from '../support/multipart';
import { type Harness, startHarness } from '../support/proxy-harness';
import { openPost, post, startPartialUpload } from '../support/raw-http';
import { nextEvent, waitForDirectory } from '../support/wait';

const png = fixture('sample.png');
const jpg = fixture('sample.jpg');
const mp4 = fixture('sample.mp4');

interface ErrorJson {
  error: { code: string; message: string; request_id: string };
}

function expectError(response: { status: number; body?: unknown; json?: unknown; headers: Record<string, unknown> }, status: number, code: string): void {
  const body = (response.body ?? response.json) as ErrorJson;
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  expect(body.error.message.length).toBeGreaterThan(10);
  expect(body.error.request_id).toBe(response.headers['x-request-id']);
}

describe.each(['buffered', 'streaming'] as const)('refusals in %s mode', (mode) => {
  let harness: Harness;

  beforeAll(async () => {
    // The image limit is the PNG fixture's exact size, to test both sides of the edge.
    harness = await startHarness({ UPSTREAM_MODE: mode, MAX_IMAGE_BYTES: String(png.bytes.length), MAX_VIDEO_BYTES: String(64 * 1024) });
  });
  afterAll(() => harness.close());

  /** No complete upload reached the stand-in since `before` (an aborted streaming request may have started). */
  function expectNothingForwardedSince(before: number): void {
    const since = harness.standIn.received.slice(before);
    expect(since.filter((upload) => upload.complete)).toEqual([]);
    if (mode === 'buffered') expect(since).toEqual([]);
  }

  it('400 NOT_MULTIPART for a body that is not a form', async () => {
    const before = harness.standIn.received.length;
    const response = await request(harness.url).post('/v1/asset').set('Content-Type', 'image/png').send(png.bytes);
    expectError(response, 400, 'NOT_MULTIPART');
    expectNothingForwardedSince(before);
  });

  it('400 MALFORMED_MULTIPART for a form cut off mid-part', async () => {
    const before = harness.standIn.received.length;
    const { body, contentType } = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: png.bytes }]);
    const truncated = body.subarray(0, body.length - 40);
    const response = await post(harness.uploadUrl, truncated, { 'Content-Type': contentType });
    expectError(response, 400, 'MALFORMED_MULTIPART');
    expectNothingForwardedSince(before);
  });

  it('400 MALFORMED_MULTIPART for a multipart type without a boundary', async () => {
    const response = await post(harness.uploadUrl, Buffer.from('hello'), { 'Content-Type': 'multipart/form-data' });
    expectError(response, 400, 'MALFORMED_MULTIPART');
  });

  it('400 MISSING_FILE for a form with only text fields', async () => {
    const response = await request(harness.url).post('/v1/asset').field('title', 'no file here');
    expectError(response, 400, 'MISSING_FILE');
  });

  it('400 UNEXPECTED_FILE_FIELD for a file under another name', async () => {
    const response = await request(harness.url).post('/v1/asset').attach('upload', png.bytes, { filename: 'a.png', contentType: 'image/png' });
    expectError(response, 400, 'UNEXPECTED_FILE_FIELD');
  });

  it('400 TOO_MANY_FILES for a second file part, and the first is not forwarded', async () => {
    const before = harness.standIn.received.length;
    const response = await request(harness.url)
      .post('/v1/asset')
      .attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' })
      .attach('file', jpg.bytes, { filename: 'b.jpg', contentType: 'image/jpeg' });
    expectError(response, 400, 'TOO_MANY_FILES');
    expectNothingForwardedSince(before);
  });

  it('400 TOO_MANY_FIELDS past the field limit', async () => {
    let req = request(harness.url).post('/v1/asset');
    for (let i = 0; i < 20; i += 1) req = req.field(`f${i}`, 'x');
    const response = await req.attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' });
    expectError(response, 400, 'TOO_MANY_FIELDS');
  });

  it('400 EMPTY_FILE for a zero-byte file', async () => {
    const before = harness.standIn.received.length;
    const response = await request(harness.url).post('/v1/asset').attach('file', Buffer.alloc(0), { filename: 'a.png', contentType: 'image/png' });
    expectError(response, 400, 'EMPTY_FILE');
    expect(harness.standIn.received.length).toBe(before);
  });

  it('201 for a file exactly at its type limit, 413 one byte over', async () => {
    const atLimit = await request(harness.url).post('/v1/asset').attach('file', png.bytes, { filename: 'a.png', contentType: 'image/png' });
    expect(atLimit.status).toBe(201);

    const before = harness.standIn.received.length;
    const over = Buffer.concat([png.bytes, Buffer.from([0])]);
    const response = await request(harness.url).post('/v1/asset').attach('file', over, { filename: 'a.png', contentType: 'image/png' });
    expectError(response, 413, 'FILE_TOO_LARGE');
    expect((response.body as ErrorJson).error.message).toContain('Image files may be at most');
    expectNothingForwardedSince(before);
    if (mode === 'streaming') {
      // The streaming request had started; it must have been aborted, not completed.
      const aborted = harness.standIn.received.slice(before);
      expect(aborted.every((upload) => !upload.complete)).toBe(true);
    }
  });

  it('413 from Content-Length alone, before a byte of the body is sent', async () => {
    const framing = singleFileFraming('huge.mp4', 'video/mp4');
    const { req, response } = openPost(harness.uploadUrl, {
      'Content-Type': framing.contentType,
      'Content-Length': String(10 * 1024 * 1024 * 1024),
    });
    req.flushHeaders();
    const answer = await response;
    expectError(answer, 413, 'FILE_TOO_LARGE');
    req.destroy();
  });

  it('413 for a large video mid-stream, with no temp file left behind', async () => {
    const before = harness.standIn.received.length;
    // Streaming mode has begun sending it to HeyGen: wait for the stand-in to record that aborted
    // request, so it cannot land in a later test's count.
    let arrived = 0;
    const onRequest = (): void => {
      arrived += 1;
    };
    harness.standIn.events.on('request', onRequest);
    const big = paddedFile(mp4, 3 * 1024 * 1024);
    const response = await request(harness.url).post('/v1/asset').attach('file', big, { filename: 'big.mp4', contentType: 'video/mp4' });
    harness.standIn.events.off('request', onRequest);
    expectError(response, 413, 'FILE_TOO_LARGE');
    while (harness.standIn.received.length - before < arrived) await nextEvent(harness.standIn.events, 'received');
    expectNothingForwardedSince(before);
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
  });

  it.each([
    ['a JPEG declared as PNG', jpg.bytes, 'image/png', 'CONTENT_MISMATCH'],
    ['an HTML page declared as an image', Buffer.from('<!DOCTYPE html><html><body><script>alert(1)</script></body></html>'), 'image/png', 'CONTENT_MISMATCH'],
    ['an executable declared as video', Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), Buffer.alloc(600)]), 'video/mp4', 'CONTENT_MISMATCH'],
    ['a type HeyGen does not take', Buffer.from('just text'), 'text/plain', 'UNSUPPORTED_MEDIA_TYPE'],
    ['a GIF, even with true bytes', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'image/gif', 'UNSUPPORTED_MEDIA_TYPE'],
    ['unknown bytes with a generic type', Buffer.from('nothing recognisable in here at all'), 'application/octet-stream', 'UNSUPPORTED_MEDIA_TYPE'],
  ])('415 for %s', async (_what, bytes, contentType, code) => {
    const before = harness.standIn.received.length;
    const response = await request(harness.url).post('/v1/asset').attach('file', bytes, { filename: 'x.bin', contentType });
    expectError(response, 415, code);
    expect(harness.standIn.received.length).toBe(before);
  });

  it('415 for a large mismatched file, answered while its body is still arriving', async () => {
    // Send only the part headers and the first bytes of a JPEG; the answer must come without the rest.
    const { req, response } = startPartialUpload(harness.uploadUrl, {
      filename: 'fake.png',
      contentType: 'image/png',
      declaredBytes: 32 * 1024 * 1024,
      firstBytes: paddedFile(jpg, 64 * 1024),
    });
    const answer = await response;
    expectError(answer, 415, 'CONTENT_MISMATCH');
    req.destroy();
  });

  it('404 NOT_FOUND for another path and 405 METHOD_NOT_ALLOWED for another method', async () => {
    expectError(await request(harness.url).get('/v1/assets'), 404, 'NOT_FOUND');
    expectError(await request(harness.url).get('/v1/asset'), 405, 'METHOD_NOT_ALLOWED');
    expectError(await request(harness.url).put('/v1/asset'), 405, 'METHOD_NOT_ALLOWED');
    expectError(await request(harness.url).post('/healthz'), 405, 'METHOD_NOT_ALLOWED');
  });
});
