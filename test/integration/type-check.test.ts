import request from 'supertest';
import type { UpstreamMode } from '../../src/config';
import { type Harness, startHarness } from '../support/proxy-harness';
import { CORPUS, POLYGLOTS } from '../support/media-corpus';
import { sha256 } from '../support/fixtures';

/**
 * What the type check claims, through the proxy: every real file of the corpus (files from common
 * encoders and a browser's MediaRecorder) is forwarded byte for byte, and a file that only starts
 * like an accepted type (a polyglot: a real header, then an executable or HTML) is refused with 415
 * and never becomes an asset.
 */
describe.each<UpstreamMode>(['buffered', 'streaming'])('the type check in %s mode', (mode) => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ UPSTREAM_MODE: mode });
  });
  afterAll(() => harness.close());

  it.each(CORPUS.map((file) => [file.name, file] as const))('forwards the real file %s', async (_name, file) => {
    const response = await request(harness.url)
      .post('/v1/asset')
      .attach('file', file.bytes, { filename: file.name.replace('corpus/', ''), contentType: file.type });
    expect(response.status).toBe(201);
    expect(harness.standIn.received.at(-1)!.sha256).toBe(sha256(file.bytes));
  });

  it.each(POLYGLOTS)('refuses %s with 415 and creates no asset', async (name, type, bytes) => {
    const before = harness.standIn.received.filter((upload) => upload.status === 200).length;
    const response = await request(harness.url).post('/v1/asset').attach('file', bytes, { filename: 'upload', contentType: type });
    expect([name, response.status, (response.body as { error?: { code?: string } }).error?.code]).toEqual([name, 415, expect.stringMatching(/^(CONTENT_MISMATCH|UNSUPPORTED_MEDIA_TYPE)$/)]);
    expect(harness.standIn.received.filter((upload) => upload.status === 200)).toHaveLength(before);
  });
});
