import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintUploadToken } from '../../src/http/upload-token';
import { Secret } from '../../src/secret';
import { fixture } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { codeOf, createUpload, patchAll, patchChunk, tusRequest } from '../support/tus';
import type { RawResponse } from '../support/raw-http';

const ORIGIN = 'https://app.example.com';

/** Every refusal is the catalogue's JSON with the request's id. */
function expectCatalogue(response: RawResponse, status: number, code: string, method = 'other'): void {
  expect(response.status).toBe(status);
  // A HEAD answer has no body.
  if (method === 'HEAD') return;
  expect(response.json).toEqual({ error: { code, message: expect.any(String) as unknown, request_id: response.headers['x-request-id'] } });
}

async function uploadsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.startsWith('.'));
}

describe('resumable uploads: the edge and the checks', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-edge-'));
    harness = await startV3Harness({ RESUMABLE_DIR: dir, ALLOWED_ORIGINS: ORIGIN, MAX_IMAGE_BYTES: '1000000', RESUMABLE_MAX_DISK_BYTES: '100000000' });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a type HeyGen does not take at creation (415), storing nothing', async () => {
    const created = await createUpload(harness.url, 1000, { filename: 'page.html', filetype: 'text/html' });
    expectCatalogue(created.response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await uploadsIn(dir)).toEqual([]);
  });

  it("refuses a length over the declared type's limit at creation (413), storing nothing", async () => {
    const created = await createUpload(harness.url, 1_000_001, { filetype: 'image/png' });
    expectCatalogue(created.response, 413, 'FILE_TOO_LARGE');
    expect((created.response.json as { error: { message: string } }).error.message).toBe('Image files may be at most 1000000 bytes.');
    expect(await uploadsIn(dir)).toEqual([]);
  });

  it('refuses a length over every limit (the largest) when the type is not declared', async () => {
    const created = await createUpload(harness.url, 300 * 1024 * 1024, {});
    expectCatalogue(created.response, 413, 'FILE_TOO_LARGE');
  });

  it('refuses a deferred length (400): HeyGen needs the size first', async () => {
    const created = await createUpload(harness.url, 'deferred', { filetype: 'image/png' });
    expectCatalogue(created.response, 400, 'UPLOAD_LENGTH_REQUIRED');
    const options = await tusRequest(`${harness.url}/v1/uploads`, 'OPTIONS');
    expect(options.status).toBe(204);
    expect(options.headers['tus-version']).toBe('1.0.0');
    expect(options.headers['tus-extension']).not.toContain('creation-defer-length');
    expect(options.headers['tus-extension']).toContain('termination');
    expect(options.headers['tus-extension']).toContain('expiration');
  });

  it('refuses a request from a foreign origin (403) and answers listed origins with the tus headers readable', async () => {
    const foreign = await createUpload(harness.url, 1000, { filetype: 'image/png' }, { Origin: 'https://evil.example' });
    expectCatalogue(foreign.response, 403, 'ORIGIN_NOT_ALLOWED');
    const preflight = await tusRequest(`${harness.url}/v1/uploads`, 'OPTIONS', {
      Origin: ORIGIN,
      'Access-Control-Request-Method': 'PATCH',
      'Access-Control-Request-Headers': 'tus-resumable,upload-offset,content-type,upload-metadata,upload-length',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(preflight.headers['access-control-allow-methods']).toContain('PATCH');
    for (const header of ['Tus-Resumable', 'Upload-Offset', 'Upload-Metadata', 'Upload-Length', 'Upload-Defer-Length', 'X-HTTP-Method-Override']) {
      expect(preflight.headers['access-control-allow-headers']).toContain(header);
    }
    const created = await createUpload(harness.url, 1862, { filetype: 'image/png' }, { Origin: ORIGIN });
    expect(created.response.status).toBe(201);
    expect(created.response.headers['access-control-allow-origin']).toBe(ORIGIN);
    const exposed = String(created.response.headers['access-control-expose-headers']);
    for (const header of ['Location', 'Upload-Offset', 'Upload-Length', 'Tus-Resumable', 'Tus-Version', 'Tus-Extension', 'Tus-Max-Size', 'Upload-Expires', 'Upload-Metadata', 'Asset-Id']) {
      expect(exposed).toContain(header);
    }
    await tusRequest(created.url, 'DELETE');
  });

  it('sniffs the first bytes as soon as they arrive: a JPEG declared as PNG gets 415 and its bytes are removed', async () => {
    const jpeg = sizedMedia('image/jpeg', 200_000);
    const created = await createUpload(harness.url, jpeg.length, { filetype: 'image/png', filename: 'photo.png' });
    expect(created.response.status).toBe(201);
    const first = await patchChunk(created.url, 0, jpeg.subarray(0, 8192));
    expectCatalogue(first, 415, 'CONTENT_MISMATCH');
    expect(await uploadsIn(dir)).toEqual([]);
    expectCatalogue(await tusRequest(created.url, 'HEAD'), 404, 'UPLOAD_NOT_FOUND', 'HEAD');
  });

  it('sniffs once enough bytes are there, also when they come in small chunks', async () => {
    const html = Buffer.concat([Buffer.from('<!doctype html><html><body>'), randomBytes(10_000)]);
    const created = await createUpload(harness.url, html.length, {});
    const answers = await patchAll(created.url, html, 1000);
    expect(answers.slice(0, 4).map((answer) => answer.status)).toEqual([204, 204, 204, 204]);
    expectCatalogue(answers[4]!, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(await uploadsIn(dir)).toEqual([]);
  });

  it('refuses a file whose structure breaks after good first bytes when it is read for forwarding (415), and removes it', async () => {
    const png = fixture('sample.png').bytes;
    const broken = Buffer.concat([png.subarray(0, png.length - 12), randomBytes(6000)]);
    const before = harness.standIn.received.length;
    const created = await createUpload(harness.url, broken.length, { filetype: 'image/png' });
    const answers = await patchAll(created.url, broken, broken.length);
    expectCatalogue(answers.at(-1)!, 415, 'CONTENT_MISMATCH');
    expect(harness.standIn.received.length).toBe(before);
    expect(await uploadsIn(dir)).toEqual([]);
    expectCatalogue(await tusRequest(created.url, 'GET'), 415, 'CONTENT_MISMATCH');
  });

  it('answers tus protocol mistakes in catalogue words', async () => {
    expectCatalogue(await tusRequest(`${harness.url}/v1/uploads`, 'POST', { 'Tus-Resumable': '', 'Upload-Length': '10' }), 412, 'TUS_RESUMABLE_REQUIRED');
    const png = sizedMedia('image/png', 20_000);
    const created = await createUpload(harness.url, png.length, { filetype: 'image/png' });
    expectCatalogue(await patchChunk(created.url, 100, png.subarray(100, 200)), 409, 'OFFSET_MISMATCH');
    expectCatalogue(await tusRequest(`${harness.url}/v1/uploads/not-an-upload`, 'HEAD'), 404, 'UPLOAD_NOT_FOUND', 'HEAD');
    expectCatalogue(await tusRequest(`${harness.url}/v1/uploads/not-an-upload`, 'GET'), 404, 'UPLOAD_NOT_FOUND');
    expectCatalogue(await tusRequest(`${harness.url}/v1/uploads/${'0'.repeat(32)}`, 'GET'), 404, 'UPLOAD_NOT_FOUND');
    expectCatalogue(await tusRequest(`${harness.url}/v1/uploads`, 'PUT'), 405, 'METHOD_NOT_ALLOWED');
    const status = await tusRequest(created.url, 'GET');
    expect(status.status).toBe(202);
    expect(status.json).toEqual({ status: 'uploading', upload_offset: 0, upload_length: png.length });
    await tusRequest(created.url, 'DELETE');
  });

  it('refuses new uploads past the disk bound with 507 STORAGE_FULL and Retry-After', async () => {
    const big = await createUpload(harness.url, 90_000_000, { filetype: 'video/mp4' });
    expect(big.response.status).toBe(201);
    const over = await createUpload(harness.url, 20_000_000, { filetype: 'video/mp4' });
    expectCatalogue(over.response, 507, 'STORAGE_FULL');
    expect(over.response.headers['retry-after']).toBe('60');
    expect((await tusRequest(big.url, 'DELETE')).status).toBe(204);
    const fits = await createUpload(harness.url, 20_000_000, { filetype: 'video/mp4' });
    expect(fits.response.status).toBe(201);
    await tusRequest(fits.url, 'DELETE');
  });
});

describe('resumable uploads: tokens and the rate limit', () => {
  const secret = 'resumable-test-secret-of-at-least-32-chars';
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-token-'));
    harness = await startV3Harness({ RESUMABLE_DIR: dir, UPLOAD_TOKEN_SECRET: secret, RATE_LIMIT_MAX: '2' });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('needs a token for every tus request, and counts creations, not chunks, against the rate limit', async () => {
    const auth = { Authorization: `Bearer ${mintUploadToken(new Secret(secret), 'user-1')}` };
    expectCatalogue((await createUpload(harness.url, 20_000, { filetype: 'image/png' })).response, 401, 'UNAUTHORIZED');
    const bytes = sizedMedia('image/png', 20_000);
    const first = await createUpload(harness.url, bytes.length, { filetype: 'image/png' }, auth);
    expect(first.response.status).toBe(201);
    expectCatalogue(await patchChunk(first.url, 0, bytes.subarray(0, 5000)), 401, 'UNAUTHORIZED');
    expectCatalogue(await tusRequest(first.url, 'HEAD'), 401, 'UNAUTHORIZED', 'HEAD');
    // Ten chunks: none counts against the budget of two uploads.
    const answers = await patchAll(first.url, bytes, 2000, 0, auth);
    expect(answers.at(-1)!.status).toBe(200);
    expect(answers).toHaveLength(10);
    expect((await tusRequest(first.url, 'GET', auth)).status).toBe(200);
    const second = await createUpload(harness.url, bytes.length, { filetype: 'image/png' }, auth);
    expect(second.response.status).toBe(201);
    const third = await createUpload(harness.url, bytes.length, { filetype: 'image/png' }, auth);
    expectCatalogue(third.response, 429, 'RATE_LIMITED');
    expect(third.response.headers['retry-after']).toBeDefined();
    // The second upload still takes its chunks.
    expect((await patchAll(second.url, bytes, 5000, 0, auth)).at(-1)!.status).toBe(200);
    expect(codeOf(third.response)).toBe('RATE_LIMITED');
  });

  it("keeps an upload its creator's: another token's subject gets 404 for it, before and after completion", async () => {
    const owner = { Authorization: `Bearer ${mintUploadToken(new Secret(secret), 'owner')}` };
    const other = { Authorization: `Bearer ${mintUploadToken(new Secret(secret), 'someone-else')}` };
    const bytes = sizedMedia('image/png', 20_000);
    const created = await createUpload(harness.url, bytes.length, { filetype: 'image/png', hup_owner: 'forged' }, owner);
    expect(created.response.status).toBe(201);
    expectCatalogue(await patchChunk(created.url, 0, bytes.subarray(0, 5000), other), 404, 'UPLOAD_NOT_FOUND');
    expectCatalogue(await tusRequest(created.url, 'HEAD', other), 404, 'UPLOAD_NOT_FOUND', 'HEAD');
    expectCatalogue(await tusRequest(created.url, 'DELETE', other), 404, 'UPLOAD_NOT_FOUND');
    expectCatalogue(await tusRequest(created.url, 'GET', other), 404, 'UPLOAD_NOT_FOUND');
    expect((await patchAll(created.url, bytes, 10_000, 0, owner)).at(-1)!.status).toBe(200);
    expectCatalogue(await tusRequest(created.url, 'GET', other), 404, 'UPLOAD_NOT_FOUND');
    expectCatalogue(await patchChunk(created.url, bytes.length, Buffer.alloc(0), other), 404, 'UPLOAD_NOT_FOUND');
    expect((await tusRequest(created.url, 'GET', owner)).status).toBe(200);
  });
});
