import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { UpstreamAsset } from '../../src/heygen/asset-record';
import type { SizedUpload, StreamedUpload, Upstream, UpstreamUpload } from '../../src/heygen/upstream';
import { isApiError } from '../../src/errors';
import { SPOOL_MEMORY_BYTES } from '../../src/upload/spool';
import { UPSTREAM_BUFFER_BYTES } from '../../src/upload/streaming-upload';
import { type IncomingFile, prepareUpload, type UploadIntent, type UploadSettings } from '../../src/upload/prepare-upload';
import { html } from '../support/media-corpus';
import { sizedMedia } from '../support/sized-media';

const ASSET: UpstreamAsset = { id: 'asset-1', file_type: 'video', url: 'https://cdn.example.com/a.mp4', image_key: null, created_ts: null };

/** An upstream in this process: keeps what it was sent, reading every body to its end as HeyGen would. */
class RecordingUpstream implements Upstream {
  readonly sent: UpstreamUpload[] = [];
  /** The bytes each send read, per attempt. */
  readonly bodies: Buffer[] = [];

  constructor(readonly maxStreamedBytes: number) {}

  async send(upload: UpstreamUpload): Promise<UpstreamAsset> {
    this.sent.push(upload);
    this.bodies.push(await readAll(upload.delivery === 'sized' ? upload.open() : upload.body));
    return ASSET;
  }

  close(): void {}
}

async function readAll(body: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(body)) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file as an intake hands it over: its bytes in 64 KiB pieces, as a socket would deliver them. */
function incoming(bytes: Buffer, declaredType: string | undefined = undefined): IncomingFile {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 64 * 1024) pieces.push(bytes.subarray(at, at + 64 * 1024));
  return { stream: Readable.from(pieces), declaredType, declaredName: 'clip.mp4' };
}

const keyWith = (fileSha256: string | undefined): string => `key-${fileSha256 ?? 'none'}`;
const forward: UploadIntent = { upstreamKey: keyWith, checksum: false, purpose: 'forward' };

describe('prepareUpload against an upstream in this process', () => {
  let spoolDirectory: string;
  beforeEach(async () => {
    spoolDirectory = await mkdtemp(join(tmpdir(), 'prepare-upload-'));
  });
  afterEach(() => rm(spoolDirectory, { recursive: true, force: true }));

  function settings(mode: UploadSettings['mode'], upstream: Upstream, videoMax = 8_000_000): UploadSettings {
    return { mode, maxBytes: { image: 1_000_000, video: videoMax, audio: 1_000_000 }, spoolDirectory, upstream };
  }

  it('buffered mode hands the upstream a sized upload: exact size, SHA-256, a body that opens again, the key for that checksum', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', SPOOL_MEMORY_BYTES + 50_000);
    const prepared = await prepareUpload(settings('buffered', upstream), incoming(bytes, 'video/mp4'), { ...forward, checksum: true });
    expect([prepared.mediaType, prepared.size, prepared.sha256]).toEqual(['video/mp4', bytes.length, sha256(bytes)]);
    expect(upstream.sent).toEqual([]);

    const record = await prepared.send();
    expect(record).toEqual({ ...ASSET, media_type: 'video/mp4', size_bytes: bytes.length });
    const sent = upstream.sent[0] as SizedUpload;
    expect(sent).toMatchObject({ delivery: 'sized', mediaType: 'video/mp4', mediaKind: 'video', filename: 'clip.mp4', size: bytes.length });
    expect(await sent.checksum()).toBe(sha256(bytes));
    expect(sent.idempotencyKey).toBe(`key-${sha256(bytes)}`);
    expect(upstream.bodies[0]!.equals(bytes)).toBe(true);
    // A second attempt reads the same bytes from the first.
    expect((await readAll(sent.open())).equals(bytes)).toBe(true);

    await prepared.dispose();
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('does not hash an unkeyed upload that no upstream needs a checksum for on the way in, and reads it once when asked', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', SPOOL_MEMORY_BYTES + 50_000);
    const prepared = await prepareUpload(settings('buffered', upstream), incoming(bytes, 'video/mp4'), { ...forward, sizeAtMost: bytes.length });
    expect(prepared.sha256).toBeUndefined();
    await prepared.send();
    const sent = upstream.sent[0] as SizedUpload;
    expect(sent.idempotencyKey).toBe('key-none');
    expect(await sent.checksum()).toBe(sha256(bytes));
    await prepared.dispose();
  });

  it('streaming mode hands the upstream a streamed upload, whose body ends only when the upload is sent', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', 3 * UPSTREAM_BUFFER_BYTES + 17);
    const intent: UploadIntent = { ...forward, sizeAtMost: bytes.length + 500, checksum: true };
    const prepared = await prepareUpload(settings('streaming', upstream), incoming(bytes), intent);

    const sent = upstream.sent[0] as StreamedUpload;
    expect(sent).toMatchObject({ delivery: 'streamed', mediaType: 'video/mp4', mediaKind: 'video' });
    // Sent before the checksum was known.
    expect(sent.idempotencyKey).toBe('key-none');
    expect(sent.signal.aborted).toBe(false);
    // Every byte has gone to the upstream, but its body has not ended, however long it waits: no answer yet.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(upstream.bodies).toEqual([]);
    expect(sent.body.readableEnded).toBe(false);
    expect([prepared.size, prepared.sha256]).toEqual([bytes.length, sha256(bytes)]);

    await prepared.send();
    expect(upstream.bodies[0]!.equals(bytes)).toBe(true);
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('streaming mode hashes a streamed file only when asked to', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', 2 * UPSTREAM_BUFFER_BYTES);
    const prepared = await prepareUpload(settings('streaming', upstream), incoming(bytes), { ...forward, sizeAtMost: bytes.length });
    expect(upstream.sent[0]!.delivery).toBe('streamed');
    expect(prepared.sha256).toBeUndefined();
    await prepared.send();
  });

  it('disposing of a streamed upload before it is sent aborts the upstream exchange', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', 2 * UPSTREAM_BUFFER_BYTES);
    const prepared = await prepareUpload(settings('streaming', upstream), incoming(bytes), { ...forward, sizeAtMost: bytes.length });
    const sent = upstream.sent[0] as StreamedUpload;
    await prepared.dispose();
    expect(sent.signal.aborted).toBe(true);
    expect(sent.body.destroyed).toBe(true);
  });

  it('streaming mode sends a sized upload when the file may be larger than the upstream takes streamed', async () => {
    const upstream = new RecordingUpstream(UPSTREAM_BUFFER_BYTES * 2);
    const bytes = sizedMedia('video/mp4', 3 * UPSTREAM_BUFFER_BYTES);
    const prepared = await prepareUpload(settings('streaming', upstream), incoming(bytes), { ...forward, sizeAtMost: bytes.length });
    await prepared.send();
    expect(upstream.sent[0]).toMatchObject({ delivery: 'sized', size: bytes.length });
    expect(await (upstream.sent[0] as SizedUpload).checksum()).toBe(sha256(bytes));
    await prepared.dispose();
  });

  it('streaming mode sends a request that fits one upstream buffer whole, as a sized upload', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', 100_000);
    const prepared = await prepareUpload(settings('streaming', upstream), incoming(bytes), { ...forward, sizeAtMost: UPSTREAM_BUFFER_BYTES });
    await prepared.send();
    expect(upstream.sent[0]!.delivery).toBe('sized');
    await prepared.dispose();
  });

  it('a stored file is checked in one pass and each attempt reads the store again; nothing is spooled', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', SPOOL_MEMORY_BYTES + 10);
    let reopened = 0;
    const file = { ...incoming(bytes), reopen: () => ((reopened += 1), Readable.from([bytes])) };
    const prepared = await prepareUpload(settings('streaming', upstream), file, forward);
    expect(await readdir(spoolDirectory)).toEqual([]);
    await prepared.send();
    expect(upstream.sent[0]).toMatchObject({ delivery: 'sized', size: bytes.length });
    expect(await (upstream.sent[0] as SizedUpload).checksum()).toBe(sha256(bytes));
    expect(reopened).toBe(1);
  });

  it('a fingerprint measures and hashes the file and never reaches the upstream', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('image/png', 30_000);
    const prepared = await prepareUpload(settings('buffered', upstream), incoming(bytes), { ...forward, purpose: 'fingerprint' });
    expect([prepared.mediaType, prepared.size, prepared.sha256]).toEqual(['image/png', bytes.length, sha256(bytes)]);
    await expect(prepared.send()).rejects.toThrow('never sent');
    expect(upstream.sent).toEqual([]);
  });

  it.each(['buffered', 'streaming'] as const)('%s mode refuses a file over its type limit, sends nothing and leaves no spool', async (mode) => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const bytes = sizedMedia('video/mp4', SPOOL_MEMORY_BYTES + 100_000);
    const refusal = await prepareUpload(settings(mode, upstream, SPOOL_MEMORY_BYTES + 99_999), incoming(bytes), forward).catch((error: unknown) => error);
    expect(isApiError(refusal) && refusal.code).toBe('FILE_TOO_LARGE');
    expect(upstream.bodies).toEqual([]);
    expect(await readdir(spoolDirectory)).toEqual([]);
  });

  it('refuses a polyglot (a real PNG, then HTML) as CONTENT_MISMATCH, and a declared type the bytes contradict', async () => {
    const upstream = new RecordingUpstream(Number.POSITIVE_INFINITY);
    const polyglot = Buffer.concat([sizedMedia('image/png', 5_000), html]);
    const broken = await prepareUpload(settings('buffered', upstream), incoming(polyglot), forward).catch((error: unknown) => error);
    expect(isApiError(broken) && broken.code).toBe('CONTENT_MISMATCH');
    const contradicted = await prepareUpload(settings('buffered', upstream), incoming(sizedMedia('image/png', 5_000), 'image/jpeg'), forward).catch((error: unknown) => error);
    expect(isApiError(contradicted) && contradicted.code).toBe('CONTENT_MISMATCH');
    expect(upstream.sent).toEqual([]);
  });
});
