import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpstreamMode } from '../../src/config';
import type { ReceivedV3 } from '../../src/dev/stand-in-heygen-v3';
import { V3_MULTIPART_MAX_BYTES } from '../../src/heygen/v3/v3-upstream';
import { MAX_NAME_CODE_POINTS } from '../../src/upload/file-name';
import { fixture } from '../support/fixtures';
import { multipartBody } from '../support/multipart';
import { startV3Harness, type V3Harness } from '../support/proxy-harness';
import { post, type RawResponse } from '../support/raw-http';
import { sizedMedia } from '../support/sized-media';
import { createUpload, patchAll } from '../support/tus';

const png = fixture('sample.png');

/** What browsers send for a file picked as "Café 😀.png": the name's raw UTF-8 in filename="...". */
const UTF8_NAME = 'Café 😀.png';

/** 130 UTF-16 units whose emoji straddles the cut: its halves are units 119 and 120. */
const LONG_NAME = `${'a'.repeat(MAX_NAME_CODE_POINTS - 1)}😀${'b'.repeat(5)}.png`;
/** The long name cut at the limit by code points: the emoji stays whole. */
const LONG_NAME_CUT = `${'a'.repeat(MAX_NAME_CODE_POINTS - 1)}😀`;

/** A multipart form as a browser builds it; multipartBody writes the name's UTF-8 bytes as they are. */
function postForm(harness: V3Harness, filename: string, bytes: Buffer, contentType: string): Promise<RawResponse> {
  const form = multipartBody([{ name: 'file', filename, contentType, data: bytes }]);
  return post(harness.uploadUrl, form.body, { 'Content-Type': form.contentType });
}

/** A whole tus upload whose Upload-Metadata filename is the base64 of the name's UTF-8. */
async function tusUpload(harness: V3Harness, filename: string, bytes: Buffer, contentType: string): Promise<RawResponse> {
  const created = await createUpload(harness.url, bytes.length, { filename, filetype: contentType });
  expect(created.response.status).toBe(201);
  const answers = await patchAll(created.url, bytes, 4 * 1024 * 1024);
  return answers.at(-1)!;
}

function sentSince(harness: V3Harness, before: number): ReceivedV3[] {
  return harness.standIn.received.slice(before);
}

describe.each<UpstreamMode>(['buffered', 'streaming'])('file names on the way to HeyGen v3 (%s mode)', (mode) => {
  let harness: V3Harness;
  let resumableDir: string;
  beforeAll(async () => {
    resumableDir = await mkdtemp(join(tmpdir(), 'file-names-'));
    harness = await startV3Harness({ UPSTREAM_MODE: mode, RESUMABLE_DIR: resumableDir });
  });
  afterAll(async () => {
    await harness.close();
    await rm(resumableDir, { recursive: true, force: true });
  });

  it('passes a raw UTF-8 filename from a multipart form to HeyGen unchanged', async () => {
    const before = harness.standIn.received.length;
    const response = await postForm(harness, UTF8_NAME, png.bytes, 'image/png');
    expect(response.status).toBe(201);
    const sent = sentSince(harness, before);
    expect(sent.map((entry) => entry.route)).toEqual(['assets']);
    expect(sent[0]!.filename).toBe(UTF8_NAME);
  });

  it('passes a UTF-8 filename from tus Upload-Metadata to HeyGen unchanged', async () => {
    const before = harness.standIn.received.length;
    const last = await tusUpload(harness, UTF8_NAME, png.bytes, 'image/png');
    expect(last.status).toBe(200);
    const sent = sentSince(harness, before);
    expect(sent.map((entry) => entry.route)).toEqual(['assets']);
    expect(sent[0]!.filename).toBe(UTF8_NAME);
  });

  it('forwards a multipart upload whose long name has an emoji on the cut (201, the emoji whole)', async () => {
    const before = harness.standIn.received.length;
    const response = await postForm(harness, LONG_NAME, png.bytes, 'image/png');
    expect(response.status).toBe(201);
    const sent = sentSince(harness, before);
    expect(sent.map((entry) => entry.route)).toEqual(['assets']);
    expect(sent[0]!.filename).toBe(LONG_NAME_CUT);
  });

  it('forwards a tus upload whose long name has an emoji on the cut (the emoji whole)', async () => {
    const before = harness.standIn.received.length;
    const last = await tusUpload(harness, LONG_NAME, png.bytes, 'image/png');
    expect(last.status).toBe(200);
    expect(last.json).toMatchObject({ media_type: 'image/png', size_bytes: png.bytes.length });
    const sent = sentSince(harness, before);
    expect(sent.map((entry) => entry.route)).toEqual(['assets']);
    expect(sent[0]!.filename).toBe(LONG_NAME_CUT);
  });
});

describe('file names in a v3 direct upload', () => {
  let harness: V3Harness;
  beforeAll(async () => {
    harness = await startV3Harness();
  });
  afterAll(() => harness.close());

  it('puts a raw UTF-8 filename from a multipart form into the create call unchanged', async () => {
    const bytes = sizedMedia('video/mp4', V3_MULTIPART_MAX_BYTES + 1_000_000);
    const before = harness.standIn.received.length;
    const response = await postForm(harness, 'Café 😀.mp4', bytes, 'video/mp4');
    expect(response.status).toBe(201);
    const sent = sentSince(harness, before);
    expect(sent.map((entry) => entry.route)).toEqual(['direct-uploads', 'put', 'complete']);
    expect(sent[0]!.filename).toBe('Café 😀.mp4');
  });
});
