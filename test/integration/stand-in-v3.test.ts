import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  type ReceivedV3,
  type StandInHeygenV3,
  type StandInV3Fault,
  startStandInHeygenV3,
} from '../../src/dev/stand-in-heygen-v3';
import { FIXTURES, fixture, paddedFile, sha256 } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { openRequest, type RawResponse } from '../support/raw-http';
import { nextEvent } from '../support/wait';

/**
 * The v3 stand-in against real sockets: what it takes, what it refuses, what it records, and each of
 * its faults. Clients use `agent: false` (one connection per request, closed after it) so the
 * connection count at the end is the stand-in's doing, not a pool's.
 */

const KEY = `v3-key-${randomBytes(12).toString('hex')}`;
const PNG = fixture('sample.png');
const MP3 = fixture('sample.mp3');

interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly param?: string };
}
interface DirectUpload {
  readonly data: {
    readonly asset_id: string;
    readonly upload_url: string;
    readonly upload_headers: Record<string, string>;
    readonly expires_in_seconds: number;
    readonly max_bytes: number;
    readonly status: string;
  };
}
interface AssetAnswer {
  readonly data: { readonly asset_id: string; readonly url: string; readonly mime_type: string; readonly size_bytes: number; readonly status?: string };
}

/** Opens a request and hands it back unfinished, to send the body in pieces or abort it. */
function open(url: string, method: string, headers: http.OutgoingHttpHeaders) {
  return openRequest(url, { method, headers, agent: false });
}

/** A whole request; Content-Length is the body's unless the headers name it (undefined: none, so chunked). */
function send(url: string, method: string, headers: http.OutgoingHttpHeaders, body?: Buffer | string): Promise<RawResponse> {
  const withLength = body === undefined || 'Content-Length' in headers ? headers : { 'Content-Length': Buffer.byteLength(body), ...headers };
  const { req, response } = open(url, method, Object.fromEntries(Object.entries(withLength).filter(([, value]) => value !== undefined)));
  req.end(body);
  return response;
}

function errorOf(response: RawResponse): ApiError['error'] {
  return (response.json as ApiError).error;
}

describe('the v3 stand-in', () => {
  let standIn: StandInHeygenV3;

  const multipart = (data: Buffer, headers: http.OutgoingHttpHeaders = {}, filename = 'upload.bin', contentType = 'application/octet-stream') => {
    const form = multipartBody([{ name: 'file', filename, contentType, data }]);
    return send(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType, ...headers }, form.body);
  };
  const json = (path: string, body: unknown, headers: http.OutgoingHttpHeaders = {}) =>
    send(`${standIn.url}${path}`, 'POST', { 'x-api-key': KEY, 'Content-Type': 'application/json', ...headers }, JSON.stringify(body));
  const createDirect = (bytes: Buffer, contentType: string, extra: Record<string, unknown> = {}, headers: http.OutgoingHttpHeaders = {}) =>
    json('/v3/assets/direct-uploads', { filename: 'clip', content_type: contentType, size_bytes: bytes.length, ...extra }, headers);
  const complete = (assetId: string, body: unknown = {}) => json(`/v3/assets/${assetId}/complete`, body);
  const put = (upload: DirectUpload['data'], body: Buffer, headers: http.OutgoingHttpHeaders = upload.upload_headers) =>
    send(upload.upload_url, 'PUT', headers, body);

  /** A direct upload created for `bytes`, with a checksum unless told otherwise. */
  async function created(bytes: Buffer, contentType: string, withChecksum = true): Promise<DirectUpload['data']> {
    const answer = await createDirect(bytes, contentType, withChecksum ? { checksum_sha256: sha256(bytes) } : {});
    expect(answer.status).toBe(200);
    return (answer.json as DirectUpload).data;
  }

  beforeAll(async () => {
    standIn = await startStandInHeygenV3({ apiKey: KEY });
  });
  afterAll(async () => {
    await standIn.close();
    expect(standIn.openConnections()).toBe(0);
  });
  afterEach(() => standIn.setFault('none'));

  describe('POST /v3/assets (multipart)', () => {
    it.each(FIXTURES.map((f) => [f.name, f] as const))('takes %s, sniffs its type and records its hash', async (_name, file) => {
      const before = standIn.assetsCreated();
      const answer = await multipart(file.bytes, {}, file.name, 'application/octet-stream');
      expect(answer.status).toBe(200);
      expect(answer.headers['x-request-id']).toMatch(/^req_[0-9a-f]{24}$/);
      const { data } = answer.json as AssetAnswer;
      expect(data).toEqual({
        asset_id: expect.stringMatching(/^[0-9a-f]{32}$/) as unknown,
        url: `https://resource2.heygen.ai/${file.kind}/${data.asset_id}/original`,
        mime_type: file.mediaType,
        size_bytes: file.bytes.length,
      });
      const seen = standIn.received.at(-1);
      expect(seen).toMatchObject({ route: 'assets', status: 200, keyAccepted: true, complete: true, bytes: file.bytes.length, sha256: sha256(file.bytes) });
      expect(seen).toMatchObject({ filename: file.name, partContentType: 'application/octet-stream', assetId: data.asset_id });
      expect(standIn.assets.get(data.asset_id)).toMatchObject({ mimeType: file.mediaType, sha256: sha256(file.bytes), state: 'processing' });
      expect(standIn.assetsCreated()).toBe(before + 1);
    });

    it.each<[string, http.OutgoingHttpHeaders]>([
      ['a wrong key', { 'x-api-key': 'not-the-key' }],
      ['no key', { 'x-api-key': undefined }],
    ])('answers 401 unauthorized to %s and creates nothing', async (_name, headers) => {
      const before = standIn.assetsCreated();
      const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: PNG.bytes }]);
      const answer = await send(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType, ...headers }, form.body);
      expect(answer.status).toBe(401);
      expect(errorOf(answer).code).toBe('unauthorized');
      expect(answer.headers['x-request-id']).toBeDefined();
      expect(standIn.received.at(-1)).toMatchObject({ keyAccepted: false, status: 401 });
      expect(standIn.assetsCreated()).toBe(before);
    });

    it.each([
      ['a text file', () => multipartBody([{ name: 'file', filename: 'a.txt', contentType: 'image/png', data: 'just some text, not an image' }])],
      ['an empty file', () => multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: Buffer.alloc(0) }])],
      ['no file part', () => multipartBody([{ name: 'other', filename: 'a.png', contentType: 'image/png', data: PNG.bytes }])],
      [
        'two file parts',
        () =>
          multipartBody([
            { name: 'file', filename: 'a.png', contentType: 'image/png', data: PNG.bytes },
            { name: 'file', filename: 'b.png', contentType: 'image/png', data: PNG.bytes },
          ]),
      ],
      [
        'an extra field',
        () =>
          multipartBody([
            { name: 'file', filename: 'a.png', contentType: 'image/png', data: PNG.bytes },
            { name: 'title', data: 'hello' },
          ]),
      ],
      ['broken framing', () => ({ ...multipartBody([]), body: Buffer.from('--nope\r\nnot multipart at all') })],
    ])('refuses %s with 400 invalid_parameter (param file)', async (_name, build) => {
      const before = standIn.assetsCreated();
      const form = build();
      const answer = await send(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType }, form.body);
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_parameter', param: 'file' });
      expect(standIn.assetsCreated()).toBe(before);
    });

    it('reads a raw UTF-8 filename (what browsers send) as UTF-8 and records it', async () => {
      const answer = await multipart(PNG.bytes, {}, 'Café 😀.png', 'image/png');
      expect(answer.status).toBe(200);
      expect(standIn.received.at(-1)).toMatchObject({ route: 'assets', status: 200, filename: 'Café 😀.png' });
    });

    it('refuses a body that is not multipart', async () => {
      const answer = await send(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': 'image/png' }, PNG.bytes);
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_parameter', message: 'The body must be multipart/form-data' });
    });

    it('answers 404 not_found, with a request id, on any other path', async () => {
      const answer = await send(`${standIn.url}/v1/asset`, 'POST', { 'x-api-key': KEY }, PNG.bytes);
      expect(answer.status).toBe(404);
      expect(errorOf(answer).code).toBe('not_found');
      expect(answer.headers['x-request-id']).toBeDefined();
      expect(standIn.received.at(-1)).toMatchObject({ route: 'other', status: 404 });
    });
  });

  describe('limits', () => {
    let small: StandInHeygenV3;
    beforeAll(async () => {
      small = await startStandInHeygenV3({ apiKey: KEY, multipartMaxBytes: 4000, maxDirectUploadBytes: 5000 });
    });
    afterAll(() => small.close());

    it('takes a multipart file of exactly multipartMaxBytes and refuses one byte more', async () => {
      const upload = (data: Buffer) => {
        const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data }]);
        return send(`${small.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType }, form.body);
      };
      expect((await upload(paddedFile(PNG, 4000))).status).toBe(200);
      const over = await upload(paddedFile(PNG, 4001));
      expect(over.status).toBe(400);
      expect(errorOf(over)).toMatchObject({ code: 'invalid_parameter', param: 'file' });
      expect(small.received.at(-1)).toMatchObject({ bytes: 4001, complete: true });
      expect(small.assetsCreated()).toBe(1);
    });

    it('refuses a direct upload above maxDirectUploadBytes and states max_bytes', async () => {
      const body = (size: number) => JSON.stringify({ filename: 'a.mp3', content_type: 'audio/mpeg', size_bytes: size });
      const headers = { 'x-api-key': KEY, 'Content-Type': 'application/json' };
      const atLimit = await send(`${small.url}/v3/assets/direct-uploads`, 'POST', headers, body(5000));
      expect((atLimit.json as DirectUpload).data.max_bytes).toBe(5000);
      const over = await send(`${small.url}/v3/assets/direct-uploads`, 'POST', headers, body(5001));
      expect(over.status).toBe(400);
      expect(errorOf(over)).toMatchObject({ code: 'invalid_parameter', param: 'size_bytes' });
    });
  });

  describe('direct uploads', () => {
    it('create, PUT to the store with the upload headers, complete: one asset with the hash of the bytes', async () => {
      const before = standIn.assetsCreated();
      const answer = await createDirect(MP3.bytes, 'audio/mpeg', { checksum_sha256: sha256(MP3.bytes) });
      expect(answer.status).toBe(200);
      const upload = (answer.json as DirectUpload).data;
      expect(upload).toMatchObject({ expires_in_seconds: 3600, max_bytes: 209715200, status: 'pending_upload' });
      // Another host (port) than the API, and nothing of the key in it.
      expect(upload.upload_url.startsWith(`${standIn.storageUrl}/bucket/${upload.asset_id}?X-Expires=`)).toBe(true);
      expect(new URL(upload.upload_url).port).not.toBe(String(standIn.port));
      expect(upload.upload_url).not.toContain(KEY);
      expect(upload.upload_headers).toEqual({
        'Content-Type': 'audio/mpeg',
        'x-amz-meta-asset-id': upload.asset_id,
        'x-amz-checksum-sha256': createHash('sha256').update(MP3.bytes).digest('base64'),
      });
      expect(standIn.assets.get(upload.asset_id)?.state).toBe('pending_upload');

      const stored = await put(upload, MP3.bytes);
      expect(stored.status).toBe(200);
      expect(stored.text).toBe('');
      expect(standIn.received.at(-1)).toMatchObject({ route: 'put', status: 200, credentialSeen: false, complete: true, sha256: sha256(MP3.bytes) });
      expect(standIn.assets.get(upload.asset_id)).toMatchObject({ state: 'uploaded', sha256: sha256(MP3.bytes) });
      expect(standIn.assetsCreated()).toBe(before);

      const done = await complete(upload.asset_id);
      expect(done.status).toBe(200);
      expect((done.json as AssetAnswer).data).toEqual({
        asset_id: upload.asset_id,
        url: `https://resource2.heygen.ai/audio/${upload.asset_id}/original`,
        mime_type: 'audio/mpeg',
        size_bytes: MP3.bytes.length,
        status: 'processing',
      });
      // Completing again answers the same record and creates nothing.
      const again = await complete(upload.asset_id, { checksum_sha256: sha256(MP3.bytes) });
      expect(again.status).toBe(200);
      expect(again.text).toBe(done.text);
      expect(standIn.assetsCreated()).toBe(before + 1);
      expect(standIn.assets.get(upload.asset_id)?.state).toBe('processing');
      // Once completed, the object can no longer be replaced.
      expect((await put(upload, MP3.bytes)).status).toBe(403);
    });

    it('works without a checksum (no checksum header to echo) and checks one given at completion', async () => {
      const upload = await created(PNG.bytes, 'image/png', false);
      expect(Object.keys(upload.upload_headers)).toEqual(['Content-Type', 'x-amz-meta-asset-id']);
      expect((await put(upload, PNG.bytes)).status).toBe(200);
      const wrong = await complete(upload.asset_id, { checksum_sha256: sha256(MP3.bytes) });
      expect(wrong.status).toBe(400);
      expect(errorOf(wrong)).toMatchObject({ code: 'invalid_parameter', param: 'checksum_sha256' });
      const right = await complete(upload.asset_id, { checksum_sha256: sha256(PNG.bytes).toUpperCase() });
      expect(right.status).toBe(200);
    });

    it('refuses to complete an object whose bytes are not the declared type', async () => {
      const png = paddedFile(PNG, 2000);
      const upload = await created(png, 'image/jpeg');
      expect((await put(upload, png)).status).toBe(200);
      const answer = await complete(upload.asset_id);
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_parameter', param: 'content_type' });
      expect(standIn.assets.get(upload.asset_id)?.state).toBe('uploaded');
    });

    it('answers complete with 409 before the PUT, 404 for an unknown id and 401 without the key', async () => {
      const upload = await created(PNG.bytes, 'image/png');
      const early = await complete(upload.asset_id);
      expect(early.status).toBe(409);
      expect(errorOf(early)).toEqual({ code: 'conflict', message: 'Uploaded object not found yet' });
      const unknown = await complete('0123456789abcdef0123456789abcdef');
      expect(unknown.status).toBe(404);
      expect(errorOf(unknown).code).toBe('not_found');
      const noKey = await send(`${standIn.url}/v3/assets/${upload.asset_id}/complete`, 'POST', { 'Content-Type': 'application/json' }, '{}');
      expect(noKey.status).toBe(401);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['no filename', { filename: undefined }, 'filename'],
      ['an unknown content_type', { content_type: 'image/gif' }, 'content_type'],
      ['a size of 0', { size_bytes: 0 }, 'size_bytes'],
      ['a fractional size', { size_bytes: 10.5 }, 'size_bytes'],
      ['a size as a string', { size_bytes: '100' }, 'size_bytes'],
      ['a size above 200 MiB', { size_bytes: 209715201 }, 'size_bytes'],
      ['a short checksum', { checksum_sha256: 'abc' }, 'checksum_sha256'],
    ])('refuses a create with %s (400 invalid_parameter)', async (_name, change, param) => {
      const answer = await json('/v3/assets/direct-uploads', { filename: 'a.png', content_type: 'image/png', size_bytes: 100, ...change });
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_parameter', param });
    });

    it('records the filename a create named', async () => {
      const answer = await json('/v3/assets/direct-uploads', { filename: 'Café 😀.png', content_type: 'image/png', size_bytes: 100 });
      expect(answer.status).toBe(200);
      expect(standIn.received.at(-1)).toMatchObject({ route: 'direct-uploads', status: 200, filename: 'Café 😀.png' });
    });

    it('refuses a create whose body is not a JSON object', async () => {
      const answer = await send(`${standIn.url}/v3/assets/direct-uploads`, 'POST', { 'x-api-key': KEY, 'Content-Type': 'application/json' }, '[1,2');
      expect(answer.status).toBe(400);
      expect(errorOf(answer).code).toBe('invalid_parameter');
    });

    describe('the object store refuses', () => {
      const cases: ReadonlyArray<[string, (upload: DirectUpload['data']) => Promise<RawResponse>, number, string]> = [
        ['the HeyGen key', (u) => put(u, MP3.bytes, { ...u.upload_headers, 'x-api-key': KEY }), 403, 'AccessDenied'],
        ['an Authorization header', (u) => put(u, MP3.bytes, { ...u.upload_headers, Authorization: 'Bearer x' }), 403, 'AccessDenied'],
        ['a shorter body', (u) => put(u, MP3.bytes.subarray(1)), 400, 'InvalidArgument'],
        ['a longer body', (u) => put(u, Buffer.concat([MP3.bytes, Buffer.from('x')])), 400, 'InvalidArgument'],
        ['a chunked body', (u) => put(u, MP3.bytes, { ...u.upload_headers, 'Content-Length': undefined, 'Transfer-Encoding': 'chunked' }), 411, 'MissingContentLength'],
        ['bytes that do not match the checksum', (u) => put(u, Buffer.from(MP3.bytes).fill(0, 100, 200)), 400, 'BadDigest'],
        ['a missing upload header', (u) => put(u, MP3.bytes, { 'Content-Type': 'audio/mpeg', 'x-amz-checksum-sha256': u.upload_headers['x-amz-checksum-sha256'] }), 403, 'SignatureDoesNotMatch'],
        ['a changed upload header', (u) => put(u, MP3.bytes, { ...u.upload_headers, 'x-amz-meta-asset-id': 'other' }), 403, 'SignatureDoesNotMatch'],
        ['another Content-Type', (u) => put(u, MP3.bytes, { ...u.upload_headers, 'Content-Type': 'video/mp4' }), 403, 'SignatureDoesNotMatch'],
        ['a forged signature', (u) => put({ ...u, upload_url: u.upload_url.replace(/X-Signature=(.)/, (_all, first: string) => `X-Signature=${first === '0' ? '1' : '0'}`) }, MP3.bytes), 403, 'SignatureDoesNotMatch'],
        ['a later expiry', (u) => put({ ...u, upload_url: u.upload_url.replace(/X-Expires=\d+/, 'X-Expires=9999999999') }, MP3.bytes), 403, 'SignatureDoesNotMatch'],
        ['a POST', (u) => send(u.upload_url, 'POST', u.upload_headers, MP3.bytes), 405, 'MethodNotAllowed'],
      ];
      it.each(cases)('%s', async (_name, attempt, status, code) => {
        const upload = await created(MP3.bytes, 'audio/mpeg');
        const answer = await attempt(upload);
        expect(answer.status).toBe(status);
        expect(answer.headers['content-type']).toBe('application/xml');
        expect(answer.text).toContain(`<Code>${code}</Code>`);
        expect(answer.headers['x-request-id']).toBeDefined();
        expect(standIn.received.at(-1)).toMatchObject({ route: 'put', status, assetId: upload.asset_id });
        // Nothing was stored: completing still finds no object.
        expect(standIn.assets.get(upload.asset_id)?.state).toBe('pending_upload');
        expect((await complete(upload.asset_id)).status).toBe(409);
      });

      it('and records a credential that reached it', async () => {
        const upload = await created(MP3.bytes, 'audio/mpeg');
        await put(upload, MP3.bytes, { ...upload.upload_headers, 'x-api-key': 'leaked' });
        expect(standIn.received.at(-1)).toMatchObject({ route: 'put', credentialSeen: true, keyAccepted: false });
      });

      it('an URL issued already expired (fault expired-url, direct-uploads only)', async () => {
        standIn.setFault('expired-url', 1);
        // The multipart route is not what this fault is about.
        expect((await multipart(PNG.bytes)).status).toBe(200);
        const upload = await created(MP3.bytes, 'audio/mpeg');
        expect(standIn.received.at(-1)?.fault).toBe('expired-url');
        const answer = await put(upload, MP3.bytes);
        expect(answer.status).toBe(403);
        expect(answer.text).toContain('Request has expired');
        // Used up: the next URL works.
        const next = await created(MP3.bytes, 'audio/mpeg');
        expect((await put(next, MP3.bytes)).status).toBe(200);
      });

      it('an upload the sender abandons halfway, which stores nothing', async () => {
        const upload = await created(MP3.bytes, 'audio/mpeg');
        const { req } = open(upload.upload_url, 'PUT', { ...upload.upload_headers, 'Content-Length': MP3.bytes.length });
        const ended = nextEvent<ReceivedV3>(standIn.events, 'received', (entry) => entry.assetId === upload.asset_id && entry.route === 'put');
        const arrived = nextEvent<http.IncomingMessage>(standIn.events, 'request', (incoming) => incoming.url === new URL(upload.upload_url).pathname + new URL(upload.upload_url).search);
        req.write(MP3.bytes.subarray(0, 5000));
        await arrived;
        req.destroy();
        const entry = await ended;
        expect(entry).toMatchObject({ complete: false, status: undefined });
        expect(entry.bytes).toBeLessThan(MP3.bytes.length);
        expect(standIn.assets.get(upload.asset_id)?.state).toBe('pending_upload');
      });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first answer of POST /v3/assets: same asset, one asset', async () => {
      const before = standIn.assetsCreated();
      const key = `k-${randomBytes(6).toString('hex')}`;
      const first = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      const second = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.text).toBe(first.text);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(second.headers['x-request-id']).not.toBe(first.headers['x-request-id']);
      expect(standIn.received.at(-1)).toMatchObject({ replayed: true, idempotencyKey: key, assetId: (first.json as AssetAnswer).data.asset_id });
      expect(standIn.assetsCreated()).toBe(before + 1);
    });

    it('scopes keys per endpoint and replays direct-upload creates', async () => {
      const key = `scope:${randomBytes(6).toString('hex')}`;
      const multi = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      const direct = await createDirect(PNG.bytes, 'image/png', {}, { 'Idempotency-Key': key });
      const directAgain = await createDirect(PNG.bytes, 'image/png', {}, { 'Idempotency-Key': key });
      expect((direct.json as DirectUpload).data.asset_id).not.toBe((multi.json as AssetAnswer).data.asset_id);
      expect(directAgain.text).toBe(direct.text);
    });

    it.each([
      ['a space', 'has space'],
      ['256 characters', 'k'.repeat(256)],
      ['a slash', 'a/b'],
    ])('refuses a key with %s (400 invalid_parameter)', async (_name, key) => {
      const answer = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      expect(answer.status).toBe(400);
      expect(errorOf(answer)).toMatchObject({ code: 'invalid_parameter', param: 'Idempotency-Key' });
    });

    it('answers 409 request_in_progress to a repeat while the first is still sending, then replays it', async () => {
      const before = standIn.assetsCreated();
      const key = `flight-${randomBytes(6).toString('hex')}`;
      const form = multipartBody([{ name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: MP3.bytes }]);
      const first = open(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType, 'Content-Length': form.body.length, 'Idempotency-Key': key });
      const arrived = nextEvent<http.IncomingMessage>(standIn.events, 'request', (incoming) => incoming.headers['idempotency-key'] === key);
      first.req.write(form.body.subarray(0, 1000));
      await arrived;
      const repeat = await multipart(MP3.bytes, { 'Idempotency-Key': key });
      expect(repeat.status).toBe(409);
      expect(errorOf(repeat).code).toBe('request_in_progress');
      first.req.end(form.body.subarray(1000));
      const done = await first.response;
      expect(done.status).toBe(200);
      const replay = await multipart(MP3.bytes, { 'Idempotency-Key': key });
      expect(replay.text).toBe(done.text);
      expect(standIn.assetsCreated()).toBe(before + 1);
    });

    it('frees the key of an upload its sender abandons, and records the upload as incomplete', async () => {
      const key = `abandon-${randomBytes(6).toString('hex')}`;
      const form = multipartBody([{ name: 'file', filename: 'a.mp3', contentType: 'audio/mpeg', data: MP3.bytes }]);
      const first = open(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType, 'Content-Length': form.body.length, 'Idempotency-Key': key });
      const arrived = nextEvent<http.IncomingMessage>(standIn.events, 'request', (incoming) => incoming.headers['idempotency-key'] === key);
      const ended = nextEvent<ReceivedV3>(standIn.events, 'received', (entry) => entry.idempotencyKey === key);
      first.req.write(form.body.subarray(0, 8000));
      await arrived;
      first.req.destroy();
      const entry = await ended;
      expect(entry).toMatchObject({ complete: false, status: undefined });
      expect(entry.bytes).toBeLessThan(MP3.bytes.length);
      const retry = await multipart(MP3.bytes, { 'Idempotency-Key': key });
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });

    it('keeps no answer of a failure, so the retry does the work', async () => {
      const key = `fail-${randomBytes(6).toString('hex')}`;
      standIn.setFault('status-500', 1);
      expect((await multipart(PNG.bytes, { 'Idempotency-Key': key })).status).toBe(500);
      const retry = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
    });

    it('replays the answer a lost response never delivered (fault lost-response): still one asset', async () => {
      const before = standIn.assetsCreated();
      const key = `lost-${randomBytes(6).toString('hex')}`;
      standIn.setFault('lost-response', 1);
      await expect(multipart(PNG.bytes, { 'Idempotency-Key': key })).rejects.toThrow();
      expect(standIn.received.at(-1)).toMatchObject({ fault: 'lost-response', status: undefined });
      const lostId = standIn.received.at(-1)?.assetId;
      expect(standIn.assetsCreated()).toBe(before + 1);
      const retry = await multipart(PNG.bytes, { 'Idempotency-Key': key });
      expect(retry.status).toBe(200);
      expect((retry.json as AssetAnswer).data.asset_id).toBe(lostId);
      expect(standIn.assetsCreated()).toBe(before + 1);
    });
  });

  describe('faults', () => {
    const canned: ReadonlyArray<[StandInV3Fault, number, (answer: RawResponse) => void]> = [
      ['unauthorized', 401, (a) => expect(errorOf(a).message).toContain(KEY)],
      ['insufficient-credit', 402, (a) => expect(errorOf(a).code).toBe('insufficient_credit')],
      ['rate-limited', 429, (a) => expect([errorOf(a).code, a.headers['retry-after']]).toEqual(['rate_limit_exceeded', '7'])],
      ['invalid-parameter', 400, (a) => expect(errorOf(a)).toMatchObject({ code: 'invalid_parameter', param: 'file' })],
      ['status-500', 500, (a) => expect(errorOf(a).code).toBe('internal_error')],
      ['bad-gateway-html', 502, (a) => expect([a.headers['content-type'], a.json, a.text.includes('<html>')]).toEqual(['text/html', undefined, true])],
      ['non-json', 200, (a) => expect([a.headers['content-type'], a.json]).toEqual(['application/json', undefined])],
      ['huge-body', 200, (a) => expect(a.text.length).toBeGreaterThan(4 * 1024 * 1024)],
      ['redirect', 307, (a) => expect(a.headers.location).toBe('/redirected/v3/assets')],
    ];
    it.each(canned)('%s: answers %i once, creates nothing, then behaves', async (fault, status, check) => {
      const before = standIn.assetsCreated();
      standIn.setFault(fault, 1);
      const answer = await multipart(PNG.bytes);
      expect(answer.status).toBe(status);
      check(answer);
      expect(answer.headers['x-request-id']).toBeDefined();
      expect(standIn.received.at(-1)).toMatchObject({ fault, status, sha256: sha256(PNG.bytes) });
      expect(standIn.assetsCreated()).toBe(before);
      expect((await multipart(PNG.bytes)).status).toBe(200);
    });

    it('redirect: the Location leads to a 404 on the stand-in, which tells it was followed', async () => {
      standIn.setFault('redirect', 1);
      const answer = await multipart(PNG.bytes);
      const followed = nextEvent(standIn.events, 'redirect-followed');
      const after = await send(new URL(String(answer.headers.location), standIn.url).href, 'POST', {}, 'x');
      await followed;
      expect(after.status).toBe(404);
    });

    it('generic faults hit the next API call, whichever it is, and never the object store or unknown paths', async () => {
      const upload = await created(MP3.bytes, 'audio/mpeg');
      standIn.setFault('rate-limited', 1);
      expect((await send(`${standIn.url}/elsewhere`, 'GET', {})).status).toBe(404);
      expect((await put(upload, MP3.bytes)).status).toBe(200);
      const limited = await complete(upload.asset_id);
      expect(limited.status).toBe(429);
      expect((await complete(upload.asset_id)).status).toBe(200);

      standIn.setFault('status-500', 1);
      expect((await createDirect(PNG.bytes, 'image/png')).status).toBe(500);
      expect((await createDirect(PNG.bytes, 'image/png')).status).toBe(200);
    });

    it('complete-not-found: only complete, N times, then it succeeds', async () => {
      const upload = await created(PNG.bytes, 'image/png');
      expect((await put(upload, PNG.bytes)).status).toBe(200);
      standIn.setFault('complete-not-found', 2);
      expect((await multipart(PNG.bytes)).status).toBe(200);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const answer = await complete(upload.asset_id);
        expect(answer.status).toBe(409);
        expect(errorOf(answer)).toEqual({ code: 'conflict', message: 'Uploaded object not found yet' });
      }
      expect((await complete(upload.asset_id)).status).toBe(200);
    });

    it.each<[StandInV3Fault, number, string]>([
      ['put-refused', 403, 'AccessDenied'],
      ['put-server-error', 500, 'InternalError'],
    ])('%s: only the object store answers %i', async (fault, status, code) => {
      standIn.setFault(fault, 1);
      const upload = await created(PNG.bytes, 'image/png');
      const refused = await put(upload, PNG.bytes);
      expect(refused.status).toBe(status);
      expect(refused.text).toContain(`<Code>${code}</Code>`);
      expect(standIn.received.at(-1)).toMatchObject({ route: 'put', fault });
      expect((await put(upload, PNG.bytes)).status).toBe(200);
    });

    it('hang: reads the whole body and never answers', async () => {
      standIn.setFault('hang', 1);
      const form = multipartBody([{ name: 'file', filename: 'a.png', contentType: 'image/png', data: PNG.bytes }]);
      const { req, response } = open(`${standIn.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': form.contentType, 'Content-Length': form.body.length });
      let answered = false;
      response.then(
        () => (answered = true),
        () => undefined,
      );
      const read = nextEvent<ReceivedV3>(standIn.events, 'received', (entry) => entry.fault === 'hang');
      req.end(form.body);
      expect(await read).toMatchObject({ complete: true, status: undefined, sha256: sha256(PNG.bytes) });
      expect(answered).toBe(false);
      req.destroy();
    });

    it('drop-connection: the connection closes before any answer', async () => {
      standIn.setFault('drop-connection', 1);
      await expect(multipart(PNG.bytes)).rejects.toThrow(/socket hang up|ECONNRESET|EPIPE/);
      expect(standIn.received.at(-1)).toMatchObject({ fault: 'drop-connection', complete: false, status: undefined });
    });

    it('reset-mid-body: the connection is reset once body bytes arrive', async () => {
      standIn.setFault('reset-mid-body', 1);
      const ended = nextEvent<ReceivedV3>(standIn.events, 'received', (entry) => entry.fault === 'reset-mid-body');
      await expect(createDirect(PNG.bytes, 'image/png')).rejects.toThrow(/ECONNRESET|EPIPE|socket hang up/);
      expect(await ended).toMatchObject({ route: 'direct-uploads', status: undefined });
    });

    it('stall-reading: never reads a byte of the body', async () => {
      // A stand-in of its own: a connection nobody reads from never notices its sender leave either,
      // so the request ends (and is recorded) only when the stand-in closes.
      const stalling = await startStandInHeygenV3({ apiKey: KEY });
      stalling.setFault('stall-reading', 1);
      const { req, response } = open(`${stalling.url}/v3/assets`, 'POST', { 'x-api-key': KEY, 'Content-Type': 'multipart/form-data; boundary=x', 'Content-Length': 8 * 1024 * 1024 });
      const arrived = nextEvent(stalling.events, 'request');
      req.write(Buffer.alloc(1024 * 1024));
      await arrived;
      await stalling.close();
      await expect(response).rejects.toThrow();
      expect(stalling.received).toEqual([expect.objectContaining({ fault: 'stall-reading', bodyBytes: 0, complete: false, status: undefined })]);
    });

    it('trickle-response: 200 and then one space at a time', async () => {
      standIn.setFault('trickle-response', 1);
      const body = JSON.stringify({ filename: 'a.png', content_type: 'image/png', size_bytes: 10 });
      const req = http.request(`${standIn.url}/v3/assets/direct-uploads`, { method: 'POST', agent: false, headers: { 'x-api-key': KEY, 'Content-Length': body.length } });
      const firstChunk = new Promise<[number | undefined, string]>((resolve, reject) => {
        req.once('response', (res) => res.once('data', (chunk: Buffer) => resolve([res.statusCode, chunk.toString()])));
        req.once('error', reject);
      });
      req.end(body);
      expect(await firstChunk).toEqual([200, ' ']);
      req.destroy();
      expect(standIn.received.at(-1)).toMatchObject({ fault: 'trickle-response', status: 200 });
    });
  });
});
