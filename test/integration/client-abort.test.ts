import request from 'supertest';
import { fixture, paddedFile } from '../support/fixtures';
import { type Harness, startHarness } from '../support/proxy-harness';
import { startPartialUpload } from '../support/raw-http';
import { nextEvent, waitForDirectory } from '../support/wait';

const mp4 = fixture('sample.mp4');
const MIB = 1024 * 1024;

/** Starts an 8 MiB upload and sends its first 2 MiB, leaving the request open. */
function startBigUpload(harness: Harness) {
  return startPartialUpload(harness.uploadUrl, {
    filename: 'big.mp4',
    contentType: 'video/mp4',
    declaredBytes: 8 * MIB,
    firstBytes: paddedFile(mp4, 2 * MIB),
  });
}

describe('a client that aborts mid-upload', () => {
  describe('in buffered mode', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({ UPSTREAM_MODE: 'buffered' });
    });
    afterAll(() => harness.close());

    it('has its temp file removed and nothing forwarded', async () => {
      const { req } = startBigUpload(harness);
      // Past the in-memory threshold the spool is a temp file: wait for it, then vanish.
      await waitForDirectory(harness.spoolDir, (entries) => entries.length === 1);
      req.destroy();
      await harness.server.deps.gate.idle();
      await waitForDirectory(harness.spoolDir, (entries) => entries.length === 0);
      expect(harness.standIn.received).toEqual([]);
      // Counted and logged as a client that left, not as an answered upload.
      const metrics = await request(harness.url).get('/metrics');
      expect(metrics.text).toMatch(/heygen_proxy_uploads_total\{outcome="CLIENT_CLOSED",media_type="unknown"\} 1/);
      expect(metrics.text).not.toMatch(/heygen_proxy_uploads_total\{outcome="success"/);
      const uploads = harness.logs.entries().filter((entry) => entry.path === '/v1/asset');
      expect(uploads.map((entry) => entry.outcome)).toEqual(['CLIENT_CLOSED']);
    });
  });

  describe('in streaming mode', () => {
    let harness: Harness;
    beforeAll(async () => {
      harness = await startHarness({ UPSTREAM_MODE: 'streaming' });
    });
    afterAll(() => harness.close());

    it('has its upstream request aborted, never completed', async () => {
      const upstreamEnded = nextEvent<{ complete: boolean }>(harness.standIn.events, 'received');
      const upstreamStarted = nextEvent(harness.standIn.events, 'request');
      const { req } = startBigUpload(harness);
      await upstreamStarted;
      req.destroy();
      expect((await upstreamEnded).complete).toBe(false);
      await harness.server.deps.gate.idle();
      expect(harness.standIn.received.filter((upload) => upload.complete)).toEqual([]);
    });
  });
});
