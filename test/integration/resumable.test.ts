import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { V3_MULTIPART_MAX_BYTES } from '../../src/heygen/v3/v3-upstream';
import { FIXTURES, fixture, sha256 } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';
import { codeOf, createUpload, patchAll, patchChunk, patchCutShort, tusRequest, waitForFileSize } from '../support/tus';

const png = fixture('sample.png');

describe('resumable uploads (tus) relayed to HeyGen v3', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-'));
    harness = await startV3Harness({ RESUMABLE_DIR: dir });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates an upload, takes it in chunks, forwards it byte for byte and answers the record', async () => {
    const before = harness.standIn.received.length;
    const created = await createUpload(harness.url, png.bytes.length, { filename: 'sample.png', filetype: 'image/png' });
    expect(created.response.status).toBe(201);
    expect(created.response.headers.location).toMatch(/^\/v1\/uploads\/[0-9a-f]{32}$/);
    expect(created.response.headers['tus-resumable']).toBe('1.0.0');
    const answers = await patchAll(created.url, png.bytes, 5000);
    const last = answers.at(-1)!;
    expect(answers.slice(0, -1).map((answer) => answer.status)).toEqual(answers.slice(0, -1).map(() => 204));
    expect(last.status).toBe(200);
    const received = harness.standIn.received.slice(before);
    expect(received.map((entry) => entry.route)).toEqual(['assets']);
    expect(received[0]!.sha256).toBe(sha256(png.bytes));
    expect(received[0]!.idempotencyKey).toBe(`hup-tus-${created.id}`);
    expect(last.json).toMatchObject({ id: received[0]!.assetId, media_type: 'image/png', size_bytes: png.bytes.length });
    expect(last.headers['asset-id']).toBe(received[0]!.assetId);
    // The record stays readable at the upload URL; the bytes are gone.
    const record = await tusRequest(created.url, 'GET');
    expect(record.status).toBe(200);
    expect(record.json).toEqual(last.json);
    expect(await readdir(dir)).not.toContain(created.id);
    // The log line and the metrics: each chunk is a request; the upload counts once, with its type.
    const metrics = await (await fetch(`${harness.url}/metrics`)).text();
    expect(metrics).toMatch(/heygen_proxy_resumable_requests_total\{method="PATCH",outcome="success"\} [1-9]/);
    expect(metrics).toMatch(/heygen_proxy_uploads_total\{outcome="success",media_type="image\/png"\} 1\n/);
    expect(harness.logs.text).toContain(`"method":"PATCH","path":"/v1/uploads/${created.id}","status":200`);
  });

  it.each(FIXTURES.map((f) => [f.name, f] as const))('forwards a %s above 32 MB as a direct upload with its exact size', async (_name, file) => {
    const bytes = sizedMedia(file.mediaType as Parameters<typeof sizedMedia>[0], V3_MULTIPART_MAX_BYTES + 1_000_000);
    const before = harness.standIn.received.length;
    const created = await createUpload(harness.url, bytes.length, { filename: `big-${file.name}`, filetype: file.mediaType });
    expect(created.response.status).toBe(201);
    const answers = await patchAll(created.url, bytes, 8 * 1024 * 1024);
    expect(answers.at(-1)!.status).toBe(200);
    const received = harness.standIn.received.slice(before);
    expect(received.map((entry) => entry.route)).toEqual(['direct-uploads', 'put', 'complete']);
    expect(received[1]!.sha256).toBe(sha256(bytes));
    expect(received[1]!.contentLength).toBe(String(bytes.length));
    expect(answers.at(-1)!.json).toMatchObject({ id: received[0]!.assetId, size_bytes: bytes.length, media_type: file.mediaType });
  });

  it('resumes from the offset the server reports after the connection drops mid-chunk', async () => {
    const bytes = sizedMedia('video/mp4', 6 * 1024 * 1024);
    const before = harness.standIn.received.length;
    const created = await createUpload(harness.url, bytes.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    await patchCutShort(created.url, 0, bytes, 4 * 1024 * 1024, () => waitForFileSize(join(dir, created.id), 1024 * 1024));
    const head = await tusRequest(created.url, 'HEAD');
    expect(head.status).toBe(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(1024 * 1024);
    expect(offset).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(head.headers['upload-length']).toBe(String(bytes.length));
    const answers = await patchAll(created.url, bytes, 2 * 1024 * 1024, offset);
    expect(answers.at(-1)!.status).toBe(200);
    const received = harness.standIn.received.slice(before);
    expect(received.map((entry) => entry.route)).toEqual(['assets']);
    expect(received[0]!.sha256).toBe(sha256(bytes));
  });

  it('terminates an upload on DELETE and removes its bytes', async () => {
    const bytes = sizedMedia('image/png', 20_000);
    const created = await createUpload(harness.url, bytes.length, { filetype: 'image/png' });
    expect((await patchChunk(created.url, 0, bytes.subarray(0, 5000))).status).toBe(204);
    expect(await readdir(dir)).toContain(created.id);
    const deleted = await tusRequest(created.url, 'DELETE');
    expect(deleted.status).toBe(204);
    expect(await readdir(dir)).not.toContain(created.id);
    const more = await patchChunk(created.url, 5000, bytes.subarray(5000));
    expect(more.status).toBe(404);
    expect(codeOf(more)).toBe('UPLOAD_NOT_FOUND');
    expect(more.json).toEqual({ error: { code: 'UPLOAD_NOT_FOUND', message: expect.any(String) as unknown, request_id: more.headers['x-request-id'] } });
    expect(harness.logs.text).toContain(`"method":"PATCH","path":"/v1/uploads/${created.id}","status":404`);
    expect(harness.logs.text).toContain('"outcome":"UPLOAD_NOT_FOUND"');
  });

  it('keeps the bytes when HeyGen fails, says so on GET, and forwards on a retried last PATCH', async () => {
    const bytes = sizedMedia('image/png', 30_000);
    const created = await createUpload(harness.url, bytes.length, { filetype: 'image/png' });
    harness.standIn.setFault('rate-limited', 1);
    const [failed] = await patchAll(created.url, bytes, bytes.length);
    expect(failed!.status).toBe(503);
    expect(codeOf(failed!)).toBe('UPSTREAM_BUSY');
    expect(await readdir(dir)).toContain(created.id);
    const status = await tusRequest(created.url, 'GET');
    expect(status.status).toBe(503);
    expect(codeOf(status)).toBe('UPSTREAM_BUSY');
    const before = harness.standIn.assetsCreated();
    const retried = await patchChunk(created.url, bytes.length, Buffer.alloc(0));
    expect(retried.status).toBe(200);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    expect(harness.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
    expect((await tusRequest(created.url, 'GET')).json).toEqual(retried.json);
  });

  it('answers one asset when the final PATCH is sent again', async () => {
    const before = harness.standIn.assetsCreated();
    const created = await createUpload(harness.url, png.bytes.length, { filetype: 'image/png' });
    const [first] = await patchAll(created.url, png.bytes, png.bytes.length);
    expect(first!.status).toBe(200);
    const again = await patchChunk(created.url, png.bytes.length, Buffer.alloc(0));
    expect(again.status).toBe(200);
    expect(again.json).toEqual(first!.json);
    const head = await tusRequest(created.url, 'HEAD');
    expect(head.headers['upload-offset']).toBe(String(png.bytes.length));
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
  });
});
