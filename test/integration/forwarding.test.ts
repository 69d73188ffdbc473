import request from 'supertest';
import { FIXTURES, fixture, paddedFile, sha256 } from '../support/fixtures';
import { type Harness, TEST_API_KEY, startHarness } from '../support/proxy-harness';
import { waitForDirectory } from '../support/wait';

const MIB = 1024 * 1024;

describe.each(['buffered', 'streaming'] as const)('forwarding in %s mode', (mode) => {
  let harness: Harness;

  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_MODE: mode });
  });
  afterAll(() => harness.close());

  it.each(FIXTURES.map((f) => [f.name, f] as const))('forwards %s byte for byte with the key and its type', async (_name, file) => {
    const before = harness.standIn.received.length;
    const response = await request(harness.url)
      .post('/v1/asset')
      .set('Cookie', 'session=browser-secret')
      .set('Authorization', 'Bearer client-token')
      .attach('file', file.bytes, { filename: file.name, contentType: file.mediaType });

    expect(response.status).toBe(201);
    expect(Object.keys(response.body as object).sort()).toEqual(['created_ts', 'file_type', 'id', 'image_key', 'media_type', 'size_bytes', 'url']);
    const asset = response.body as Record<string, unknown>;
    expect(asset.file_type).toBe(file.kind);
    expect(asset.media_type).toBe(file.mediaType);
    expect(asset.size_bytes).toBe(file.bytes.length);
    expect(asset.image_key === null).toBe(file.kind !== 'image');
    expect(typeof asset.id).toBe('string');
    expect(response.headers['x-request-id']).toEqual(expect.any(String));

    expect(harness.standIn.received).toHaveLength(before + 1);
    const upstream = harness.standIn.received.at(-1)!;
    expect(upstream.sha256).toBe(sha256(file.bytes));
    expect(upstream.bytes).toBe(file.bytes.length);
    expect(upstream.contentType).toBe(file.mediaType);
    expect(upstream.keyAccepted).toBe(true);
    // Nothing of the browser's request is passed on.
    expect(upstream.headerNames).not.toEqual(expect.arrayContaining(['cookie']));
    expect(upstream.headerNames).not.toEqual(expect.arrayContaining(['authorization']));
    // Every fixture's request fits the streaming buffer, so streaming mode, too, sends it whole with its length.
    expect(upstream.contentLength).toBe(String(file.bytes.length));
  });

  it('forwards a multi-megabyte video byte for byte and leaves no temp file', async () => {
    const video = paddedFile(fixture('sample.mp4'), 5 * MIB + 123);
    const response = await request(harness.url)
      .post('/v1/asset')
      .field('title', 'ignored')
      .attach('file', video, { filename: 'big.mp4', contentType: 'video/mp4' });
    expect(response.status).toBe(201);
    const upstream = harness.standIn.received.at(-1)!;
    expect(upstream.sha256).toBe(sha256(video));
    // Larger than the streaming buffer: streaming mode streams it (chunked), buffered mode spools it.
    if (mode === 'buffered') expect(upstream.contentLength).toBe(String(video.length));
    else expect(upstream.transferEncoding).toBe('chunked');
    await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
  });

  it('takes the detected type when the declared type is generic', async () => {
    const png = fixture('sample.png');
    const response = await request(harness.url)
      .post('/v1/asset')
      .attach('file', png.bytes, { filename: 'upload.bin', contentType: 'application/octet-stream' });
    expect(response.status).toBe(201);
    expect((response.body as { file_type: string }).file_type).toBe('image');
    expect(harness.standIn.received.at(-1)!.contentType).toBe('image/png');
  });

  it('forwards the canonical type for an alias such as audio/mp3', async () => {
    const mp3 = fixture('sample.mp3');
    const response = await request(harness.url)
      .post('/v1/asset')
      .attach('file', mp3.bytes, { filename: 'voice.mp3', contentType: 'audio/mp3' });
    expect(response.status).toBe(201);
    expect(harness.standIn.received.at(-1)!.contentType).toBe('audio/mpeg');
  });

  it('accepts an MP3 that has no ID3 tag', async () => {
    const mp3 = fixture('sample.mp3').bytes;
    // Skip the ID3v2 tag: its size is a 28-bit syncsafe integer in bytes 6-9, after a 10-byte header.
    const tagSize = ((mp3[6]! & 0x7f) << 21) | ((mp3[7]! & 0x7f) << 14) | ((mp3[8]! & 0x7f) << 7) | (mp3[9]! & 0x7f);
    const bare = mp3.subarray(10 + tagSize);
    expect(bare[0]).toBe(0xff);
    const response = await request(harness.url)
      .post('/v1/asset')
      .attach('file', bare, { filename: 'bare.mp3', contentType: 'audio/mpeg' });
    expect(response.status).toBe(201);
    expect(harness.standIn.received.at(-1)!.sha256).toBe(sha256(bare));
  });

  it('never sends the key anywhere but upstream', () => {
    expect(harness.logs.text).not.toContain(TEST_API_KEY);
  });
});
