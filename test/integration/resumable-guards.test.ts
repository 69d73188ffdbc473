import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withTimeout } from '../../src/with-timeout';
import { mintUploadToken } from '../../src/http/upload-token';
import { Secret } from '../../src/secret';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { startTwoReplicas, type TwoReplicas } from '../support/replicas';
import { expectMatchesOpenApi } from '../support/openapi';
import { openRequest, type RawResponse } from '../support/raw-http';
import { sizedMedia } from '../support/sized-media';
import { codeOf, createUpload, patchChunk, tusRequest, waitForFileSize } from '../support/tus';
import { nextEvent } from '../support/wait';

const SECRET = 'resumable-guards-secret-of-at-least-32-chars';
const MB = 1_000_000;

function bearer(subject: string): Record<string, string> {
  return { Authorization: `Bearer ${mintUploadToken(new Secret(SECRET), subject)}` };
}

/** Opens a PATCH that sends `first` and then holds the rest of `length` back, for slow clients and aborts. */
function openPatch(url: string, offset: number, length: number, first: Buffer, headers: Record<string, string>, expectContinue = false) {
  const opened = openRequest(url, {
    method: 'PATCH',
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Offset': String(offset),
      'Content-Type': 'application/offset+octet-stream',
      'Content-Length': String(length),
      ...(expectContinue ? { Expect: '100-continue' } : {}),
      ...headers,
    },
  });
  if (!expectContinue) opened.req.write(first);
  return opened;
}

/** The answer is what /openapi.json promises for it. */
function documented(method: string, path: '/v1/uploads' | '/v1/uploads/{id}', response: RawResponse): void {
  expectMatchesOpenApi(method, path, { status: response.status, headers: response.headers, body: response.json, text: response.text });
}

function answerWithin(response: Promise<RawResponse>, ms: number, what: string): Promise<RawResponse> {
  return withTimeout(response, ms, `${what}: no answer within ${ms} ms`);
}

describe('resumable uploads under the one upload chain', () => {
  const WINDOW_MS = 500;
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-guards-'));
    harness = await startV3Harness({
      RESUMABLE_DIR: dir,
      UPLOAD_TOKEN_SECRET: SECRET,
      MAX_CONCURRENT_UPLOADS: '3',
      MAX_UPLOADS_PER_CLIENT: '2',
      CLIENT_MIN_BYTES_PER_SECOND: String(64 * 1024),
      CLIENT_MIN_RATE_WINDOW_MS: String(WINDOW_MS),
      CLIENT_IDLE_TIMEOUT_MS: '60000',
      RATE_LIMIT_MAX: '1000',
    });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('caps one client\'s slow PATCHes, cuts them off as too slow, and never keeps another client out', async () => {
    const attacker = bearer('attacker');
    const video = sizedMedia('video/mp4', 4 * 1024 * 1024);
    const uploads = [];
    for (let i = 0; i < 3; i += 1) uploads.push(await createUpload(harness.url, video.length, { filetype: 'video/mp4' }, attacker));
    const slow = uploads.slice(0, 2).map((upload) => openPatch(upload.url, 0, video.length, video.subarray(0, 8192), attacker));
    const trickle = setInterval(() => {
      for (const patch of slow) patch.req.write(Buffer.alloc(1));
    }, 100);
    try {
      // The third PATCH of the same client finds its two slots held.
      const third = await patchChunk(uploads[2]!.url, 0, video.subarray(0, 1024), attacker);
      expect(third.status).toBe(429);
      expect(codeOf(third)).toBe('TOO_MANY_UPLOADS_IN_PROGRESS');
      expect(third.headers['retry-after']).toBeDefined();
      documented('PATCH', '/v1/uploads/{id}', third);

      // Another client creates and finishes an upload (creation-with-upload) while they are held.
      const png = sizedMedia('image/png', 30_000);
      const other = await answerWithin(
        tusRequest(`${harness.url}/v1/uploads`, 'POST', { ...bearer('someone-else'), 'Upload-Length': String(png.length), 'Upload-Metadata': `filetype ${Buffer.from('image/png').toString('base64')}`, 'Content-Type': 'application/offset+octet-stream' }, png),
        10_000,
        'the other client',
      );
      expect(other.status).toBe(201);

      // The slow PATCHes are cut off within a few windows, as a slow POST /v1/asset is.
      for (const patch of slow) {
        const answer = await answerWithin(patch.response, 6 * WINDOW_MS + 2_000, 'the slow PATCH');
        expect(answer.status).toBe(408);
        expect(codeOf(answer)).toBe('CLIENT_TOO_SLOW');
        documented('PATCH', '/v1/uploads/{id}', answer);
      }
    } finally {
      clearInterval(trickle);
      for (const patch of slow) patch.req.destroy();
    }
    await harness.server.deps.gate.idle();
    for (const upload of uploads) await tusRequest(upload.url, 'DELETE', attacker);
  });

  it('answers Expect: 100-continue on a PATCH only once the checks have passed', async () => {
    const owner = bearer('continue-owner');
    const png = sizedMedia('image/png', 30_000);
    const created = await createUpload(harness.url, png.length, { filetype: 'image/png' }, owner);

    const refused = openPatch(created.url, 0, png.length, Buffer.alloc(0), bearer('not-the-owner'), true);
    let continued = false;
    refused.req.once('continue', () => {
      continued = true;
    });
    const refusal = await answerWithin(refused.response, 5_000, 'the refused PATCH');
    expect(refusal.status).toBe(404);
    expect(continued).toBe(false);
    refused.req.destroy();

    const accepted = openPatch(created.url, 0, png.length, Buffer.alloc(0), owner, true);
    await withTimeout(nextEvent(accepted.req, 'continue'), 5_000, 'no 100 Continue for an accepted PATCH');
    accepted.req.end(png);
    const answer = await answerWithin(accepted.response, 10_000, 'the accepted PATCH');
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ media_type: 'image/png', size_bytes: png.length });
  });
});

describe('resumable uploads: per-client shares of the store', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-shares-'));
    harness = await startV3Harness({
      RESUMABLE_DIR: dir,
      UPLOAD_TOKEN_SECRET: SECRET,
      MAX_VIDEO_BYTES: String(50 * MB),
      RESUMABLE_MAX_DISK_BYTES: String(100 * MB),
      RESUMABLE_MAX_BYTES_PER_CLIENT: String(60 * MB),
      MAX_RESUMABLE_UPLOADS_PER_CLIENT: '3',
      RATE_LIMIT_MAX: '1000',
    });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('one client cannot push another\'s creation into 507, however it sizes its uploads', async () => {
    const attacker = bearer('hoarder');
    const first = await createUpload(harness.url, 40 * MB, { filetype: 'video/mp4' }, attacker);
    expect(first.response.status).toBe(201);
    // Over its share of 60 MB: refused as the client's own limit, not the store's.
    const second = await createUpload(harness.url, 40 * MB, { filetype: 'video/mp4' }, attacker);
    expect(second.response.status).toBe(429);
    expect(codeOf(second.response)).toBe('TOO_MANY_UNFINISHED_UPLOADS');
    expect(second.response.headers['retry-after']).toBe('60');
    documented('POST', '/v1/uploads', second.response);
    // Halving does not help past the count either.
    const small = [];
    for (let i = 0; i < 2; i += 1) small.push(await createUpload(harness.url, 5 * MB, { filetype: 'video/mp4' }, attacker));
    expect(small.map((created) => created.response.status)).toEqual([201, 201]);
    const fourth = await createUpload(harness.url, MB, { filetype: 'video/mp4' }, attacker);
    expect(fourth.response.status).toBe(429);
    expect(codeOf(fourth.response)).toBe('TOO_MANY_UNFINISHED_UPLOADS');

    const other = await createUpload(harness.url, 40 * MB, { filetype: 'video/mp4' }, bearer('someone-else'));
    expect(other.response.status).toBe(201);

    // A terminated upload gives its room back at once.
    expect((await tusRequest(first.url, 'DELETE', attacker)).status).toBe(204);
    const again = await createUpload(harness.url, 40 * MB, { filetype: 'video/mp4' }, attacker);
    expect(again.response.status).toBe(201);
    for (const created of [...small, again]) await tusRequest(created.url, 'DELETE', attacker);
    await tusRequest(other.url, 'DELETE', bearer('someone-else'));
  });

  it('gives a forwarded upload\'s room back, and a store that is full is still full for everyone (507)', async () => {
    const owner = bearer('finisher');
    const png = sizedMedia('image/png', 30_000);
    for (let i = 0; i < 4; i += 1) {
      // Three unfinished uploads is the cap: a fourth in a row fits only because each one finished.
      const created = await createUpload(harness.url, png.length, { filetype: 'image/png' }, owner);
      expect(created.response.status).toBe(201);
      expect((await patchChunk(created.url, 0, png, owner)).status).toBe(200);
    }
    const clients = ['a', 'b'].map((name) => bearer(`filler-${name}`));
    const held = [await createUpload(harness.url, 50 * MB, { filetype: 'video/mp4' }, clients[0]), await createUpload(harness.url, 50 * MB, { filetype: 'video/mp4' }, clients[1])];
    expect(held.map((created) => created.response.status)).toEqual([201, 201]);
    const full = await createUpload(harness.url, MB, { filetype: 'video/mp4' }, owner);
    expect(full.response.status).toBe(507);
    expect(codeOf(full.response)).toBe('STORAGE_FULL');
    documented('POST', '/v1/uploads', full.response);
    await tusRequest(held[0]!.url, 'DELETE', clients[0]);
    await tusRequest(held[1]!.url, 'DELETE', clients[1]);
  });
});

describe('resumable uploads: creation with the whole file, ids, late refusals and forwards in flight', () => {
  let harness: V3Harness;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'resumable-finish-'));
    harness = await startV3Harness({ RESUMABLE_DIR: dir, UPSTREAM_TIMEOUT_MS: '3000', RATE_LIMIT_MAX: '1000' });
  });
  afterAll(async () => {
    await harness.close();
    await rm(dir, { recursive: true, force: true });
  });

  const create = (bytes: Buffer, type: string) =>
    tusRequest(`${harness.url}/v1/uploads`, 'POST', { 'Upload-Length': String(bytes.length), 'Upload-Metadata': `filetype ${Buffer.from(type).toString('base64')}`, 'Content-Type': 'application/offset+octet-stream' }, bytes);

  it('answers a creation that carries the whole file with 201, its Location and the record: one asset', async () => {
    const png = sizedMedia('image/png', 40_000);
    const before = harness.standIn.assetsCreated();
    const answer = await create(png, 'image/png');
    expect(answer.status).toBe(201);
    expect(answer.headers.location).toMatch(/^\/v1\/uploads\/[0-9a-f]{32}$/);
    expect(answer.json).toMatchObject({ media_type: 'image/png', size_bytes: png.length });
    expect(answer.headers['asset-id']).toBe((answer.json as { id: string }).id);
    documented('POST', '/v1/uploads', answer);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
    const url = `${harness.url}${String(answer.headers.location)}`;
    const head = await tusRequest(url, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe(String(png.length));
    expect((await tusRequest(url, 'GET')).json).toEqual(answer.json);
    // Its bytes have left the disk; only the record stays.
    expect((await readdir(dir)).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('a creation whose forward fails answers with its Location, and the client finishes it by that id', async () => {
    const png = sizedMedia('image/png', 40_000);
    harness.standIn.setFault('insufficient-credit', 1);
    const failed = await create(png, 'image/png');
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(failed.headers.location).toMatch(/^\/v1\/uploads\/[0-9a-f]{32}$/);
    documented('POST', '/v1/uploads', failed);
    const url = `${harness.url}${String(failed.headers.location)}`;
    const before = harness.standIn.assetsCreated();
    const retried = await patchChunk(url, png.length, Buffer.alloc(0));
    expect(retried.status).toBe(200);
    expect(retried.json).toMatchObject({ media_type: 'image/png', size_bytes: png.length });
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
  });

  it('acts on the id the proxy checked: a query string cannot name another upload', async () => {
    const png = sizedMedia('image/png', 20_000);
    const created = await createUpload(harness.url, png.length, { filetype: 'image/png' });
    const decoy = `${harness.url}/v1/uploads/${'0'.repeat(32)}?x=/${created.id}`;
    const head = await tusRequest(decoy, 'HEAD');
    expect(head.status).toBe(404);
    const patch = await patchChunk(decoy, 0, png);
    expect(patch.status).toBe(404);
    expect(codeOf(patch)).toBe('UPLOAD_NOT_FOUND');
    expect((await tusRequest(created.url, 'HEAD')).headers['upload-offset']).toBe('0');
    await tusRequest(created.url, 'DELETE');
  });

  it('checks the first bytes of a PATCH that stored the whole file and then failed on one byte too many', async () => {
    const notPng = Buffer.concat([Buffer.from('<!doctype html><html><body>'), Buffer.alloc(20_000, 0x20)]);
    const created = await createUpload(harness.url, notPng.length, { filetype: 'image/png' });
    // Chunked, so tus cannot refuse it by its length first: every byte is stored before the extra one fails it.
    const { req, response } = openRequest(created.url, { method: 'PATCH', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' } });
    req.write(notPng);
    await waitForFileSize(join(dir, created.id), notPng.length);
    req.end(Buffer.from('!'));
    const answer = await response;
    expect(answer.status).toBe(415);
    expect(codeOf(answer)).toBe('CONTENT_MISMATCH');
    expect((await tusRequest(created.url, 'HEAD')).status).toBe(404);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('refuses to terminate an upload that is being forwarded, and the asset is there once', async () => {
    const png = sizedMedia('image/png', 40_000);
    const created = await createUpload(harness.url, png.length, { filetype: 'image/png' });
    // HeyGen takes the body and does not answer until UPSTREAM_TIMEOUT_MS: the forward is in flight.
    harness.standIn.setFault('hang', 1);
    const atHeygen = nextEvent(harness.standIn.events, 'request');
    const last = patchChunk(created.url, 0, png);
    await atHeygen;
    const terminate = await tusRequest(created.url, 'DELETE');
    expect(terminate.status).toBe(400);
    expect(codeOf(terminate)).toBe('INVALID_TUS_REQUEST');
    documented('DELETE', '/v1/uploads/{id}', terminate);
    expect((await last).status).toBe(504);
    const settled = await patchChunk(created.url, png.length, Buffer.alloc(0));
    expect(settled.status).toBe(200);
    expect((await tusRequest(created.url, 'DELETE')).status).toBe(400);
  });

  it('graceful shutdown waits for a forward whose client hung up', async () => {
    const own = await startV3Harness({ RESUMABLE_DIR: dir, UPSTREAM_TIMEOUT_MS: '2000', SHUTDOWN_GRACE_MS: '10000' });
    try {
      const png = sizedMedia('image/png', 40_000);
      const created = await createUpload(own.url, png.length, { filetype: 'image/png' });
      own.standIn.setFault('hang', 1);
      const atHeygen = nextEvent(own.standIn.events, 'request');
      const last = openPatch(created.url, 0, png.length, png, {});
      await atHeygen;
      last.req.destroy();
      await own.server.shutdown();
      // The forward ended (HeyGen did not answer within UPSTREAM_TIMEOUT_MS) before shutdown did.
      const record = JSON.parse(await readFile(join(dir, '.records', `${created.id}.json`), 'utf8')) as { state: string };
      expect(record.state).toBe('failed');
    } finally {
      await own.close();
    }
  });
});

describe('resumable uploads: the per-client shares hold across two replicas sharing Redis', () => {
  let replicas: TwoReplicas;
  let a: V3Harness;
  let b: V3Harness;
  beforeAll(async () => {
    replicas = await startTwoReplicas('resumable-shared-shares', {
      UPLOAD_TOKEN_SECRET: SECRET,
      MAX_VIDEO_BYTES: String(50 * MB),
      RESUMABLE_MAX_DISK_BYTES: String(100 * MB),
      RESUMABLE_MAX_BYTES_PER_CLIENT: String(60 * MB),
      MAX_RESUMABLE_UPLOADS_PER_CLIENT: '2',
    });
    ({ a, b } = replicas);
  });
  afterAll(() => replicas.close());

  it('counts a client\'s unfinished uploads and bytes on every replica, and frees them wherever they end', async () => {
    const client = bearer('two-replicas');
    const onA = await createUpload(a.url, 40 * MB, { filetype: 'video/mp4' }, client);
    expect(onA.response.status).toBe(201);
    const tooMuch = await createUpload(b.url, 40 * MB, { filetype: 'video/mp4' }, client);
    expect(tooMuch.response.status).toBe(429);
    const onB = await createUpload(b.url, 10 * MB, { filetype: 'video/mp4' }, client);
    expect(onB.response.status).toBe(201);
    const third = await createUpload(a.url, MB, { filetype: 'video/mp4' }, client);
    expect(codeOf(third.response)).toBe('TOO_MANY_UNFINISHED_UPLOADS');
    // Terminated through the other replica than the one that created it: its room is free on both.
    expect((await tusRequest(`${b.url}/v1/uploads/${onA.id}`, 'DELETE', client)).status).toBe(204);
    const again = await createUpload(a.url, 40 * MB, { filetype: 'video/mp4' }, client);
    expect(again.response.status).toBe(201);
    for (const created of [onB, again]) await tusRequest(created.url, 'DELETE', client);
  });
});
