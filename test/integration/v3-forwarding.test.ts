import request from 'supertest';
import type { UpstreamMode } from '../../src/config';
import type { ReceivedV3 } from '../../src/dev/stand-in-heygen-v3';
import { V3_MULTIPART_MAX_BYTES } from '../../src/heygen/v3/v3-upstream';
import { UPSTREAM_BUFFER_BYTES } from '../../src/upload/streaming-upload';
import { FIXTURES, paddedFile, sha256 } from '../support/fixtures';
import { startV3Harness, startV3ProxyFor, TEST_API_KEY, type V3Harness } from '../support/proxy-harness';
import { sizedMedia } from '../support/sized-media';

/** Just above v3's multipart cap, so the proxy must use a direct upload. */
const DIRECT_UPLOAD_BYTES = V3_MULTIPART_MAX_BYTES + 1_000_000;

function upload(harness: V3Harness, bytes: Buffer, name: string, type: string): request.Test {
  return request(harness.url).post('/v1/asset').attach('file', bytes, { filename: name, contentType: type });
}

function codeOf(response: request.Response): string | undefined {
  return (response.body as { error?: { code?: string } }).error?.code;
}

function idOf(response: request.Response): string | undefined {
  return (response.body as { id?: string }).id;
}

function routesOf(received: readonly ReceivedV3[]): string[] {
  return received.map((entry) => entry.route);
}

describe.each<UpstreamMode>(['buffered', 'streaming'])('HeyGen v3 in %s mode', (mode) => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness({ UPSTREAM_MODE: mode });
  });
  afterAll(() => harness.close());

  it.each(FIXTURES.map((f) => [f.name, f] as const))('sends %s by multipart, byte for byte, with the key', async (_name, file) => {
    const before = harness.standIn.received.length;
    const response = await upload(harness, file.bytes, file.name, file.mediaType);

    expect(response.status).toBe(201);
    const received = harness.standIn.received.slice(before);
    expect(routesOf(received)).toEqual(['assets']);
    const [call] = received;
    expect(call!.sha256).toBe(sha256(file.bytes));
    expect(call!.keyAccepted).toBe(true);
    expect(call!.filename).toBe(file.name);
    expect(call!.partContentType).toBe(file.mediaType);
    expect(call!.idempotencyKey).toMatch(/^hup-/);
    expect(response.body).toEqual({
      id: call!.assetId,
      file_type: file.kind,
      url: expect.stringMatching(/^https:\/\//) as unknown,
      image_key: null,
      created_ts: null,
      media_type: file.mediaType,
      size_bytes: file.bytes.length,
    });
  });

  it.each(FIXTURES.map((f) => [f.name, f] as const))('sends a %s above 32 MB by direct upload, byte for byte, the key never at storage', async (_name, file) => {
    const bytes = sizedMedia(file.mediaType as Parameters<typeof sizedMedia>[0], DIRECT_UPLOAD_BYTES);
    const before = harness.standIn.received.length;
    const response = await upload(harness, bytes, `big-${file.name}`, file.mediaType);

    expect(response.status).toBe(201);
    const received = harness.standIn.received.slice(before);
    expect(routesOf(received)).toEqual(['direct-uploads', 'put', 'complete']);
    const [create, put, complete] = received;
    expect(create!.keyAccepted).toBe(true);
    expect(complete!.keyAccepted).toBe(true);
    expect(put!.credentialSeen).toBe(false);
    expect(put!.headerNames).not.toEqual(expect.arrayContaining(['x-api-key']));
    expect(put!.headerNames).not.toEqual(expect.arrayContaining(['authorization']));
    expect(put!.sha256).toBe(sha256(bytes));
    expect(put!.contentLength).toBe(String(bytes.length));
    expect(put!.transferEncoding).toBeUndefined();
    expect(response.body).toMatchObject({ id: create!.assetId, media_type: file.mediaType, size_bytes: bytes.length, image_key: null, created_ts: null });
    expect(JSON.stringify(response.body)).not.toContain(TEST_API_KEY);
  });
});

describe('HeyGen v3: what the proxy does with its refusals and failures', () => {
  let harness: V3Harness;
  const png = FIXTURES.find((f) => f.name === 'sample.png')!;
  beforeAll(async () => {
    harness = await startV3Harness({ UPSTREAM_TIMEOUT_MS: '1000' });
  });
  afterEach(() => harness.standIn.setFault('none'));
  afterAll(() => harness.close());

  const send = (): request.Test => upload(harness, png.bytes, png.name, png.mediaType);

  it('answers a HeyGen rate limit with 503 UPSTREAM_BUSY and HeyGen\'s Retry-After', async () => {
    harness.standIn.setFault('rate-limited');
    const response = await send();
    expect(response.status).toBe(503);
    expect(codeOf(response)).toBe('UPSTREAM_BUSY');
    expect(response.headers['retry-after']).toBe('7');
  });

  it('answers HeyGen refusing the file with 422 UPSTREAM_REJECTED_FILE', async () => {
    harness.standIn.setFault('invalid-parameter');
    const response = await send();
    expect(response.status).toBe(422);
    expect(codeOf(response)).toBe('UPSTREAM_REJECTED_FILE');
  });

  it.each([
    ['unauthorized', 'key_invalid'],
    ['insufficient-credit', 'insufficient_credit'],
  ] as const)('answers %s with a plain 502, names the reason in the log and counts it', async (fault, reason) => {
    harness.standIn.setFault(fault);
    const response = await send();
    expect(response.status).toBe(502);
    expect(codeOf(response)).toBe('UPSTREAM_ERROR');
    expect(JSON.stringify(response.body)).not.toMatch(/credit|key|unauthori/i);
    const line = harness.logs.lines.map((text) => JSON.parse(text) as Record<string, unknown>).find((entry) => entry.reqId === response.headers['x-request-id']);
    expect(String(line?.detail)).toContain(`credentials (${reason})`);
    const metrics = await request(harness.url).get('/metrics');
    expect(metrics.text).toMatch(new RegExp(`heygen_proxy_upstream_refusals_total\\{reason="${reason}"\\} [1-9]`));
  });

  it('retries a 5xx with the same Idempotency-Key and creates one asset', async () => {
    const before = harness.standIn.assetsCreated();
    const seen = harness.standIn.received.length;
    harness.standIn.setFault('status-500', 1);
    const response = await send();
    expect(response.status).toBe(201);
    const calls = harness.standIn.received.slice(seen);
    expect(calls.map((call) => call.status)).toEqual([500, 200]);
    expect(new Set(calls.map((call) => call.idempotencyKey)).size).toBe(1);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
  });

  it('retries a create whose answer was lost and gets the same asset, not a second one', async () => {
    const before = harness.standIn.assetsCreated();
    const seen = harness.standIn.received.length;
    harness.standIn.setFault('lost-response', 1);
    const response = await send();
    expect(response.status).toBe(201);
    const calls = harness.standIn.received.slice(seen);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.replayed).toBe(true);
    expect(idOf(response)).toBe(calls[0]!.assetId);
    expect(harness.standIn.assetsCreated()).toBe(before + 1);
  });

  it('answers 502 once every retry of a 5xx failed', async () => {
    harness.standIn.setFault('status-500');
    const response = await send();
    expect(response.status).toBe(502);
    expect(codeOf(response)).toBe('UPSTREAM_ERROR');
  });

  it('answers 504 when HeyGen does not answer in time', async () => {
    harness.standIn.setFault('hang');
    const response = await send();
    expect(response.status).toBe(504);
    expect(codeOf(response)).toBe('UPSTREAM_TIMEOUT');
  });
});

describe('HeyGen v3 direct upload: storage, completion and size', () => {
  let harness: V3Harness;
  const bytes = sizedMedia('video/mp4', DIRECT_UPLOAD_BYTES);
  beforeAll(async () => {
    harness = await startV3Harness({}, {}, { maxDirectUploadBytes: DIRECT_UPLOAD_BYTES + 10 });
  });
  afterEach(() => harness.standIn.setFault('none'));
  afterAll(() => harness.close());

  const send = (body: Buffer = bytes): request.Test => upload(harness, body, 'clip.mp4', 'video/mp4');

  it('retries complete through HeyGen\'s 409 "not found yet" race', async () => {
    const seen = harness.standIn.received.length;
    harness.standIn.setFault('complete-not-found', 2);
    const response = await send();
    expect(response.status).toBe(201);
    expect(routesOf(harness.standIn.received.slice(seen))).toEqual(['direct-uploads', 'put', 'complete', 'complete', 'complete']);
  });

  it('resends the bytes when storage fails once with a 5xx', async () => {
    const seen = harness.standIn.received.length;
    harness.standIn.setFault('put-server-error', 1);
    const response = await send();
    expect(response.status).toBe(201);
    expect(routesOf(harness.standIn.received.slice(seen))).toEqual(['direct-uploads', 'put', 'put', 'complete']);
  });

  it.each(['put-refused', 'expired-url'] as const)('answers 502 when storage refuses the bytes (%s)', async (fault) => {
    harness.standIn.setFault(fault);
    const response = await send();
    expect(response.status).toBe(502);
    expect(codeOf(response)).toBe('UPSTREAM_ERROR');
  });

  it('refuses a file above HeyGen\'s max_bytes with 413, before any byte is PUT', async () => {
    const seen = harness.standIn.received.length;
    const response = await send(sizedMedia('video/mp4', DIRECT_UPLOAD_BYTES + 100));
    expect(response.status).toBe(413);
    expect(codeOf(response)).toBe('FILE_TOO_LARGE');
    expect(routesOf(harness.standIn.received.slice(seen))).toEqual(['direct-uploads']);
  });
});

describe('HeyGen v3: what streaming mode streams', () => {
  let harness: V3Harness;
  const mp4 = FIXTURES.find((f) => f.name === 'sample.mp4')!;
  beforeAll(async () => {
    harness = await startV3Harness({ UPSTREAM_MODE: 'streaming' });
  });
  afterAll(() => harness.close());

  it('streams a body whose Content-Length proves the file fits the multipart cap', async () => {
    const video = paddedFile(mp4, 2 * UPSTREAM_BUFFER_BYTES);
    const response = await upload(harness, video, mp4.name, mp4.mediaType);
    expect(response.status).toBe(201);
    const call = harness.standIn.received.at(-1)!;
    expect(call.route).toBe('assets');
    expect(call.transferEncoding).toBe('chunked');
    expect(call.sha256).toBe(sha256(video));
  });

  it('sends a request that fits the streaming buffer whole, with its length', async () => {
    const response = await upload(harness, mp4.bytes, mp4.name, mp4.mediaType);
    expect(response.status).toBe(201);
    const call = harness.standIn.received.at(-1)!;
    expect(call.route).toBe('assets');
    expect(call.transferEncoding).toBeUndefined();
    expect(call.contentLength).toEqual(expect.any(String));
    expect(call.sha256).toBe(sha256(mp4.bytes));
  });

  it('spools a chunked body (no Content-Length) and sends it with its length', async () => {
    const boundary = 'chunked-boundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="clip.mp4"\r\nContent-Type: video/mp4\r\n\r\n`),
      mp4.bytes,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const response = await fetch(`${harness.url}/v1/asset`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: new Blob([body]).stream(),
      duplex: 'half',
    });
    expect(response.status).toBe(201);
    const call = harness.standIn.received.at(-1)!;
    expect(call.route).toBe('assets');
    expect(call.transferEncoding).toBeUndefined();
    expect(call.contentLength).toEqual(expect.any(String));
    expect(call.sha256).toBe(sha256(mp4.bytes));
  });
});

describe('HeyGen v3: a client retry after the proxy lost its own idempotency record', () => {
  it('gets the same asset, because HeyGen got the same Idempotency-Key', async () => {
    const first = await startV3Harness();
    const { standIn } = first;
    const png = FIXTURES.find((f) => f.name === 'sample.png')!;
    try {
      const before = standIn.assetsCreated();
      const one = await upload(first, png.bytes, png.name, png.mediaType).set('Idempotency-Key', 'retry-after-restart');
      expect(one.status).toBe(201);
      // A new proxy process: its memory store has no record of the first upload.
      const restarted = await startV3ProxyFor(standIn);
      try {
        const two = await upload(restarted, png.bytes, png.name, png.mediaType).set('Idempotency-Key', 'retry-after-restart');
        expect(two.status).toBe(201);
        expect(two.headers['idempotent-replayed']).toBeUndefined();
        expect(idOf(two)).toBe(idOf(one));
        expect(standIn.received.at(-1)!.replayed).toBe(true);
        expect(standIn.assetsCreated()).toBe(before + 1);
        // Restarted once more (no record again), another file under the same key is a new upload at
        // HeyGen too, never the first one's asset.
        const again = await startV3ProxyFor(standIn);
        try {
          const jpg = FIXTURES.find((f) => f.name === 'sample.jpg')!;
          const three = await upload(again, jpg.bytes, jpg.name, jpg.mediaType).set('Idempotency-Key', 'retry-after-restart');
          expect(three.status).toBe(201);
          expect(idOf(three)).not.toBe(idOf(one));
          expect(standIn.assetsCreated()).toBe(before + 2);
        } finally {
          await again.close();
        }
      } finally {
        await restarted.close();
      }
    } finally {
      await first.close();
    }
  });
});
