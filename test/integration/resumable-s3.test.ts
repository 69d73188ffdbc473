import { randomBytes } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { sha256 } from '../support/fixtures';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { startTwoReplicas, type TwoReplicas } from '../support/replicas';
import { type S3Server, startS3Server } from '../support/s3-server';
import { sizedMedia } from '../support/sized-media';
import { codeOf, createUpload, patchAll, patchChunk, patchCutShort, tusRequest } from '../support/tus';

/**
 * The resumable suite on RESUMABLE_STORE=s3, against Ceph's RADOS Gateway on this machine
 * (test/support/s3-server.ts): creation, multipart parts, resume after a dropped connection, the
 * first-bytes check wherever the bytes are, one asset per upload, the record on the other replica,
 * expiry and the per-client bounds. The SIGKILL on one of two replicas is in replica-crash-resumable.test.ts.
 */

const MIB = 1024 * 1024;

// RGW on two busy cores answers a part in up to a few seconds.
jest.setTimeout(60_000);

let s3: S3Server;
beforeAll(async () => {
  s3 = await startS3Server();
  // In-process proxies: the AWS SDK's default chain reads the credentials from the environment, as in a pod.
  const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = s3.envFor('unused');
  Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
}, 90_000);
afterAll(async () => {
  await s3.stop();
});

/** RGW's access-log line for the PUT of part `part` of upload `id` that it took (200). */
function partTaken(bucket: string, id: string, part: number): RegExp {
  return new RegExp(`"PUT /${bucket}/${id}\\?[^"]*partNumber=${part}[&" ][^"]*" 200`);
}

/** Every key in the bucket that belongs to upload `id` (its object, info, incomplete part, record). */
async function keysOf(bucket: string, id: string): Promise<string[]> {
  return (await s3.keys(bucket)).filter((key) => key.includes(id)).sort();
}

describe('resumable uploads on S3: two replicas sharing Redis and one bucket', () => {
  const bucket = 'tus-replicas';
  let replicas: TwoReplicas;
  beforeAll(async () => {
    await s3.createBucket(bucket);
    replicas = await startTwoReplicas('resumable-s3', s3.envFor(bucket));
  });
  afterAll(async () => {
    await replicas.close();
  });

  it('takes a 12 MiB file in chunks as multipart parts, forwards it once byte for byte, reads the record on the other replica, and leaves only the record', async () => {
    const bytes = sizedMedia('video/mp4', 12 * MIB);
    const created = await createUpload(replicas.a.url, bytes.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    expect(created.response.status).toBe(201);
    const before = replicas.standIn.assetsCreated();
    const answers = await patchAll(created.url, bytes, 3 * MIB);
    expect(answers.map((answer) => answer.status)).toEqual([204, 204, 204, 200]);
    // The bytes went to S3 as a multipart upload: an 8 MiB part, then the last part.
    await s3.waitForRequest(partTaken(bucket, created.id, 1));
    await s3.waitForRequest(partTaken(bucket, created.id, 2));
    expect(replicas.standIn.assetsCreated()).toBe(before + 1);
    const sent = replicas.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!;
    expect(sent.sha256).toBe(sha256(bytes));
    expect(sent.idempotencyKey).toBe(`hup-tus-${created.id}`);
    // Sent again to the other replica, the last chunk finds the record there: the same answer, no second asset.
    const again = await patchChunk(`${replicas.b.url}/v1/uploads/${created.id}`, bytes.length, Buffer.alloc(0));
    expect(again.status).toBe(200);
    expect(again.json).toEqual(answers.at(-1)!.json);
    expect((await tusRequest(`${replicas.b.url}/v1/uploads/${created.id}`, 'GET')).json).toEqual(answers.at(-1)!.json);
    expect(replicas.standIn.assetsCreated()).toBe(before + 1);
    expect(await keysOf(bucket, created.id)).toEqual([`records/${created.id}.json`]);
    expect(await s3.multipartUploads(bucket)).not.toContain(created.id);
  });

  it('resumes from the offset the bucket holds after the connection drops mid-chunk, on the other replica', async () => {
    const bytes = sizedMedia('video/mp4', 12 * MIB);
    const created = await createUpload(replicas.a.url, bytes.length, { filename: 'clip.mp4', filetype: 'video/mp4' });
    await patchCutShort(created.url, 0, bytes, 10 * MIB, () => s3.waitForRequest(partTaken(bucket, created.id, 1)));
    const uploadUrl = `${replicas.b.url}/v1/uploads/${created.id}`;
    const head = await tusRequest(uploadUrl, 'HEAD');
    expect(head.status).toBe(200);
    const offset = Number(head.headers['upload-offset']);
    expect(offset).toBeGreaterThanOrEqual(8 * MIB);
    expect(offset).toBeLessThanOrEqual(10 * MIB);
    const before = replicas.standIn.assetsCreated();
    const answers = await patchAll(uploadUrl, bytes, 2 * MIB, offset);
    expect(answers.at(-1)!.status).toBe(200);
    expect(replicas.standIn.assetsCreated()).toBe(before + 1);
    expect(replicas.standIn.received.filter((entry) => entry.route === 'assets').at(-1)!.sha256).toBe(sha256(bytes));
  });

  it('sniffs the first bytes as they arrive: a JPEG declared as PNG gets 415, and nothing of it stays in the bucket', async () => {
    const jpeg = sizedMedia('image/jpeg', 200_000);
    const created = await createUpload(replicas.a.url, jpeg.length, { filetype: 'image/png', filename: 'photo.png' });
    const first = await patchChunk(created.url, 0, jpeg.subarray(0, 8192));
    expect(first.status).toBe(415);
    expect(codeOf(first)).toBe('CONTENT_MISMATCH');
    expect(await keysOf(bucket, created.id)).toEqual([]);
    expect(await s3.multipartUploads(bucket)).not.toContain(created.id);
    expect((await tusRequest(`${replicas.b.url}/v1/uploads/${created.id}`, 'HEAD')).status).toBe(404);
  });

  it('sniffs first bytes that come in small chunks, reading back those the bucket already holds', async () => {
    const html = Buffer.concat([Buffer.from('<!doctype html><html><body>'), randomBytes(10_000)]);
    const created = await createUpload(replicas.a.url, html.length, {});
    const answers = await patchAll(created.url, html, 1000);
    expect(answers.slice(0, 4).map((answer) => answer.status)).toEqual([204, 204, 204, 204]);
    expect(answers[4]!.status).toBe(415);
    expect(codeOf(answers[4]!)).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await keysOf(bucket, created.id)).toEqual([]);
  });

  it('sniffs the first bytes of a first PATCH big enough to leave as a multipart part, which S3 cannot read back', async () => {
    const notVideo = Buffer.concat([Buffer.from('<!doctype html><html><body>'), Buffer.alloc(10 * MIB, 0x20)]);
    const created = await createUpload(replicas.a.url, notVideo.length, { filetype: 'video/mp4' });
    const answer = await patchChunk(created.url, 0, notVideo.subarray(0, 9 * MIB));
    await s3.waitForRequest(partTaken(bucket, created.id, 1));
    expect(answer.status).toBe(415);
    expect(await keysOf(bucket, created.id)).toEqual([]);
    expect(await s3.multipartUploads(bucket)).not.toContain(created.id);
  });

  it('terminates an upload on DELETE: its info, incomplete part and multipart upload go', async () => {
    const bytes = sizedMedia('video/mp4', 12 * MIB);
    const created = await createUpload(replicas.a.url, bytes.length, { filetype: 'video/mp4' });
    expect((await patchChunk(created.url, 0, bytes.subarray(0, 100_000))).status).toBe(204);
    expect(await keysOf(bucket, created.id)).toEqual([`${created.id}.info`, `${created.id}.part`]);
    expect((await tusRequest(`${replicas.b.url}/v1/uploads/${created.id}`, 'DELETE')).status).toBe(204);
    expect(await keysOf(bucket, created.id)).toEqual([]);
    expect(await s3.multipartUploads(bucket)).not.toContain(created.id);
  });
});

describe('resumable uploads on S3: expiry and the per-client bounds', () => {
  const bucket = 'tus-bounds';
  let harness: V3Harness;
  beforeAll(async () => {
    await s3.createBucket(bucket);
    // The timer is out of the way; the test calls cleanup() itself.
    harness = await startV3Harness({ ...s3.envFor(bucket), RESUMABLE_EXPIRY_MS: '60000', RESUMABLE_CLEANUP_INTERVAL_MS: '3600000', MAX_RESUMABLE_UPLOADS_PER_CLIENT: '2' });
  });
  afterAll(async () => {
    await harness.close();
  });

  /** Moves an upload's creation back in time, as if `ageMs` had passed (@tus/s3-store keeps it in <id>.info). */
  async function age(id: string, ageMs: number): Promise<void> {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: `${id}.info` }));
    const info = JSON.parse(await object.Body!.transformToString()) as { creation_date: string };
    info.creation_date = new Date(Date.now() - ageMs).toISOString();
    await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `${id}.info`, Body: JSON.stringify(info), Metadata: object.Metadata }));
  }

  it('holds a client to its unfinished uploads (429), expires one (410), and the cleanup removes it and gives its room back', async () => {
    const bytes = sizedMedia('video/mp4', 2 * MIB);
    const first = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    const second = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    expect([first.response.status, second.response.status]).toEqual([201, 201]);
    const third = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    expect(third.response.status).toBe(429);
    expect(codeOf(third.response)).toBe('TOO_MANY_UNFINISHED_UPLOADS');

    expect((await patchChunk(first.url, 0, bytes.subarray(0, MIB))).status).toBe(204);
    await age(first.id, 61_000);
    const late = await patchChunk(first.url, MIB, bytes.subarray(MIB));
    expect(late.status).toBe(410);
    expect(codeOf(late)).toBe('UPLOAD_EXPIRED');
    expect(await harness.server.deps.resumable.cleanup()).toEqual({ expired: 1, records: 0 });
    expect(await keysOf(bucket, first.id)).toEqual([]);
    expect(await s3.multipartUploads(bucket)).not.toContain(first.id);
    expect(codeOf(await tusRequest(first.url, 'GET'))).toBe('UPLOAD_NOT_FOUND');

    // The expired upload's room is the client's again; the one not expired is left alone.
    const fourth = await createUpload(harness.url, bytes.length, { filetype: 'video/mp4' });
    expect(fourth.response.status).toBe(201);
    expect(await keysOf(bucket, second.id)).toEqual([`${second.id}.info`]);
    for (const created of [second, fourth]) expect((await tusRequest(created.url, 'DELETE')).status).toBe(204);
  });

  it('is ready while the bucket can be used', async () => {
    const ready = await fetch(`${harness.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.resumable_store).toBe('ok');
  });
});

describe('resumable uploads on S3: a bucket that is not there', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness(s3.envFor('no-such-bucket'));
  });
  afterAll(async () => {
    await harness.close();
  });

  it('starts, but is not ready, and readiness names S3\'s answer', async () => {
    const ready = await fetch(`${harness.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { error: { code: string }; checks: Record<string, string> })).toMatchObject({ error: { code: 'NOT_READY' }, checks: { resumable_store: 'NotFound' } });
    expect(harness.logs.text).toContain('resumable store: could not count the stored uploads at start');
  });
});
